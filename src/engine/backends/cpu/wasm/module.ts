/**
 * The CPU backend's WebAssembly SIMD kernels: AssemblyScript sources (as/*.as) compiled at first
 * use and cached, so a fresh clone needs no build step after `npm install`, and no generated
 * binary is committed.
 *
 * The cache key is a hash of the sources, the compiler options and the compiler version; the
 * binary lives in node_modules/.cache/convscope/ (falling back to the OS temp directory when that
 * is not writable). Compiling takes a second or two and happens once per source change; every
 * later process reads the cached file. The module imports one shared memory (env.memory) and
 * nothing else, so the main thread and every worker instantiate it over the same memory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kernels' exports; every argument is an i32 or f32, every pointer a byte offset into the shared memory. */
export interface KernelExports {
  gemm(M: number, N: number, K: number, a: number, b: number, c: number, ldc: number, bias: number, tmp: number): void;
  gemm_tmp_bytes(M: number, N: number): number;
  pack_a(src: number, lda: number, M: number, K: number, dst: number): void;
  pack_b_rows(src: number, ldb: number, K: number, cols: number, dst: number): void;
  pack_b_transposed(src: number, K: number, N: number, dst: number): void;
  pack_b_conv(
    x: number, cinG: number, h: number, w: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number,
    wo: number, p0: number, cols: number, dst: number, lanes: number,
  ): void;
  col2im_add(
    col: number, ldcol: number, nb: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number,
    w: number, ho: number, wo: number, iy0: number, iy1: number, out: number,
  ): void;
  fill_planes(dst: number, planes: number, n: number, values: number): void;
  gemv(x: number, K: number, w: number, f0: number, f1: number, bias: number, y: number): void;
  add_rows(c: number, M: number, N: number, ldc: number, bias: number): void;
  dw_plane(
    x: number, h: number, w: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, pb: number, pr: number, dh: number, dw: number,
    ho: number, wo: number, wt: number, bias: number, out: number, scratch: number,
  ): void;
  /** mode 0: max, 1: min, 2: average. */
  pool_plane(
    mode: number, x: number, h: number, w: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, pb: number, pr: number, dh: number, dw: number,
    ho: number, wo: number, countIncludePad: number, out: number, scratch: number,
  ): void;
  window_scratch(h: number, w: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, pb: number, pr: number, dh: number, dw: number, ho: number, wo: number): number;
  mean_planes(x: number, planes: number, n: number, out: number): void;
  wino_input(
    x: number, h: number, w: number, pt: number, pl: number,
    ty0: number, rb: number, tilesX4: number, wp: number, pad: number,
    c: number, K: number, xiStride: number, b: number,
  ): void;
  wino_output(
    m: number, mStride: number, M: number, N: number,
    rb: number, tilesX: number, tilesX4: number, ty0: number, ho: number, wo: number,
    bias: number, out: number, P: number, tail: number,
  ): void;
  wino_pad_cols(tilesX4: number): number;
  relu(x: number, y: number, n: number): void;
  relu6(x: number, y: number, n: number): void;
  /** op 0: add, 1: mul. */
  binary_same(op: number, a: number, b: number, y: number, n: number): void;
  binary_scalar(op: number, a: number, s: number, y: number, n: number): void;
  bn_planes(x: number, y: number, p0: number, p1: number, c: number, spatial: number, scale: number, shift: number): void;
}

const EXPORTS: (keyof KernelExports)[] = ['gemm', 'gemm_tmp_bytes', 'pack_a', 'pack_b_rows', 'pack_b_transposed', 'pack_b_conv', 'col2im_add', 'fill_planes', 'gemv', 'add_rows',
  'dw_plane', 'pool_plane', 'window_scratch', 'mean_planes', 'wino_input', 'wino_output', 'wino_pad_cols', 'relu', 'relu6', 'binary_same', 'binary_scalar', 'bn_planes'];

/**
 * The WebAssembly API this file uses. The engine compiles against ES2022 and Node's types, which
 * declare no WebAssembly globals; the runtime has them.
 */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}
/** A compiled module: opaque here, cloneable to worker threads. */
export type WasmModule = { readonly __wasmModule: unique symbol };
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  compile(bytes: Uint8Array): Promise<WasmModule>;
  validate(bytes: Uint8Array): boolean;
}
export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Why the kernels could not be had; the CPU backend then runs its TypeScript kernels and says why. */
export class WasmUnavailable extends Error {}

const SOURCE_DIR = fileURLToPath(new URL('./as/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** 65536 pages = 4 GiB, all a 32-bit memory can address. */
export const MAX_PAGES = 65536;

const COMPILER_OPTIONS = {
  optimizeLevel: 3,
  shrinkLevel: 0,
  runtime: 'stub',
  noAssert: true,
  importMemory: true,
  sharedMemory: true,
  initialMemory: 1,
  maximumMemory: MAX_PAGES,
  enable: ['simd', 'threads'],
  // No abort import: the kernels check nothing at run time; their callers check shapes.
  use: ['abort='],
};

function readSources(): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const file of readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.as')).sort()) {
    sources[file.replace(/\.as$/, '.ts')] = readFileSync(join(SOURCE_DIR, file), 'utf8');
  }
  return sources;
}

function cacheDirs(): string[] {
  return [join(REPO_ROOT, 'node_modules', '.cache', 'convscope'), join(tmpdir(), 'convscope-cache')];
}

async function compile(sources: Record<string, string>): Promise<Uint8Array> {
  let asc: typeof import('assemblyscript/asc');
  try {
    asc = await import('assemblyscript/asc');
  } catch (err) {
    throw new WasmUnavailable(`the AssemblyScript compiler (assemblyscript, a dev dependency) is not installed and no compiled kernels are cached (${(err as Error).message})`);
  }
  const result = await asc.compileString(sources, COMPILER_OPTIONS as never);
  if (result.error || !result.binary) {
    throw new WasmUnavailable(`compiling the WebAssembly kernels failed: ${result.error?.message ?? ''}\n${result.stderr.toString()}`);
  }
  return result.binary;
}

async function kernelBinary(): Promise<Uint8Array> {
  const sources = readSources();
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')).version;
  } catch {
    // Not installed: only a cached binary can help, and its key must not depend on the version.
  }
  const key = createHash('sha256').update(JSON.stringify({ sources, options: COMPILER_OPTIONS, version })).digest('hex').slice(0, 16);
  const name = `wasm-kernels-${key}.wasm`;
  for (const dir of cacheDirs()) {
    try {
      const bytes = readFileSync(join(dir, name));
      if (WA.validate(bytes)) return bytes;
    } catch {
      // Not cached there.
    }
  }
  const bytes = await compile(sources);
  for (const dir of cacheDirs()) {
    try {
      mkdirSync(dir, { recursive: true });
      // Write then rename: another process compiling at the same time never reads half a file.
      const tmp = join(dir, `${name}.${process.pid}.tmp`);
      writeFileSync(tmp, bytes);
      renameSync(tmp, join(dir, name));
      // Builds of older sources are dead weight now.
      for (const f of readdirSync(dir)) if (/^wasm-kernels-[0-9a-f]+\.wasm$/.test(f) && f !== name) rmSync(join(dir, f), { force: true });
      break;
    } catch {
      // Read-only install: try the next place; without any, compile again next time.
    }
  }
  return bytes;
}

let loading: Promise<WasmModule> | null = null;

/** The compiled kernel module (compiled or read from the cache once per process). */
export function loadKernelModule(): Promise<WasmModule> {
  loading ??= (async () => {
    if (typeof SharedArrayBuffer === 'undefined') throw new WasmUnavailable('SharedArrayBuffer is not available');
    const bytes = await kernelBinary();
    let module: WasmModule;
    try {
      module = await WA.compile(bytes);
    } catch (err) {
      throw new WasmUnavailable(`this runtime cannot compile the kernels (WebAssembly SIMD and threads are required): ${(err as Error).message}`);
    }
    return module;
  })();
  // A failure is remembered too: every backend in the process falls back for the same reason.
  return loading;
}

/** Instantiates the kernels over a shared memory; synchronous, for workers and the main thread alike. */
export function instantiateKernels(module: WasmModule, memory: WasmMemory): KernelExports {
  const instance = new WA.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  for (const name of EXPORTS) {
    if (typeof exports[name] !== 'function') throw new WasmUnavailable(`the compiled kernels lack ${name}`);
  }
  return exports;
}
