/**
 * The CPU backend's WebAssembly SIMD kernels: AssemblyScript sources (as/*.as) compiled at first
 * use and cached, so a fresh clone needs no build step after `npm install`, and no generated
 * binary is committed.
 *
 * The cache key is a hash of the sources, the compiler options and the compiler version; the
 * binary lives in node_modules/.cache/convscope/ (falling back to the OS temp directory when that
 * is not writable; CONVSCOPE_CACHE_DIR puts it elsewhere). Compiling takes 20-76 s on a loaded
 * machine and happens once per source change, so it is announced (notices.ts: the CLI's stderr,
 * the workbench's Profile panel); every later process reads the cached file. The module imports one shared memory (env.memory) and
 * nothing else, so the main thread and every worker instantiate it over the same memory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { emitEngineNotice } from '../../../notices.ts';

/** The kernels' exports; every argument is an i32 or f32, every pointer a byte offset into the shared memory. */
export interface KernelExports {
  gemm(M: number, N: number, K: number, a: number, aRows: number, aRow0: number, b: number, c: number, ldc: number, bias: number, tmp: number): void;
  gemm_tmp_bytes(M: number, N: number): number;
  gemm_kc(): number;
  pack_a(src: number, lda: number, M: number, K: number, dst: number): void;
  pack_b_rows(src: number, ldb: number, K: number, cols: number, dst: number, panelK: number): void;
  pack_b_transposed(src: number, K: number, N: number, dst: number): void;
  pack_b_conv(
    x: number, cinG: number, h: number, w: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number,
    wo: number, p0: number, cols: number, dst: number, lanes: number, panelK: number,
  ): void;
  col2im_add(
    col: number, ldcol: number, nb: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number,
    w: number, ho: number, wo: number, iy0: number, iy1: number, out: number,
  ): void;
  fill_planes(dst: number, planes: number, n: number, values: number): void;
  deform_corners(
    off: number, mask: number, P: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number,
    h: number, w: number, wo: number, p0: number, cols: number, cw: number,
  ): void;
  deform_pack(x: number, nc: number, plane: number, taps: number, cols: number, cw: number, dst: number, panelK: number): void;
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
  wino4_input(
    x: number, h: number, w: number, pt: number, pl: number,
    ty0: number, rb: number, tilesX4: number, wp: number, pad: number,
    c: number, K: number, xiStride: number, b: number, work: number,
  ): void;
  wino4_output(
    m: number, mStride: number, M: number, N: number,
    rb: number, tilesX: number, tilesX4: number, ty0: number, ho: number, wo: number,
    bias: number, out: number, P: number, work: number, tail: number,
  ): void;
  relu(x: number, y: number, n: number): void;
  relu6(x: number, y: number, n: number): void;
  /** op 0: add, 1: mul. */
  binary_same(op: number, a: number, b: number, y: number, n: number): void;
  binary_scalar(op: number, a: number, s: number, y: number, n: number): void;
  /** act 0: none, 1: relu, 2: relu6. */
  scale_add(a: number, s: number, r: number, y: number, n: number, act: number): void;
  /** r 0: no residual; act 0: none, 1: relu, 2: relu6. */
  epilogue_rows(y: number, r: number, rows: number, cols: number, stride: number, act: number): void;
  bn_planes(x: number, y: number, p0: number, p1: number, c: number, spatial: number, scale: number, shift: number): void;
}

const EXPORTS: (keyof KernelExports)[] = ['gemm', 'gemm_tmp_bytes', 'gemm_kc', 'pack_a', 'pack_b_rows', 'pack_b_transposed', 'pack_b_conv', 'col2im_add', 'fill_planes', 'deform_corners', 'deform_pack', 'gemv', 'add_rows',
  'dw_plane', 'pool_plane', 'window_scratch', 'mean_planes', 'wino_input', 'wino_output', 'wino_pad_cols', 'wino4_input', 'wino4_output', 'relu', 'relu6', 'binary_same', 'binary_scalar', 'scale_add', 'epilogue_rows', 'bn_planes'];

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

const BASE_OPTIONS = {
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

/**
 * A module of one function, f32x4.relaxed_madd of its three v128 parameters: valid exactly where
 * the runtime has relaxed SIMD.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0..2; f32x4.relaxed_madd
]);

/**
 * Whether relaxed SIMD (its fused multiply-add above all) can be had. Chromium and Node 22 have it
 * on; Node 20's V8 has it behind --experimental-wasm-relaxed-simd, which V8 reads when it compiles
 * a module, so setting it here, before the kernels compile, is enough. CONVSCOPE_WASM_FMA=0 turns
 * it off (to measure what it brings).
 */
function relaxedSimd(): boolean {
  if (process.env.CONVSCOPE_WASM_FMA === '0') return false;
  if (WA.validate(RELAXED_PROBE)) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WA.validate(RELAXED_PROBE);
}

function compilerOptions(relaxed: boolean): typeof BASE_OPTIONS {
  return relaxed ? { ...BASE_OPTIONS, enable: [...BASE_OPTIONS.enable, 'relaxed-simd'] } : BASE_OPTIONS;
}

function readSources(): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const file of readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.as')).sort()) {
    sources[file.replace(/\.as$/, '.ts')] = readFileSync(join(SOURCE_DIR, file), 'utf8');
  }
  return sources;
}

function cacheDirs(): string[] {
  const chosen = process.env.CONVSCOPE_CACHE_DIR;
  if (chosen) return [chosen];
  return [join(REPO_ROOT, 'node_modules', '.cache', 'convscope'), join(tmpdir(), 'convscope-cache')];
}

async function compile(sources: Record<string, string>, options: typeof BASE_OPTIONS): Promise<Uint8Array> {
  let asc: typeof import('assemblyscript/asc');
  try {
    asc = await import('assemblyscript/asc');
  } catch (err) {
    throw new WasmUnavailable(`the AssemblyScript compiler (assemblyscript, a dev dependency) is not installed and no compiled kernels are cached (${(err as Error).message})`);
  }
  const result = await asc.compileString(sources, options as never);
  if (result.error || !result.binary) {
    throw new WasmUnavailable(`compiling the WebAssembly kernels failed: ${result.error?.message ?? ''}\n${result.stderr.toString()}`);
  }
  return result.binary;
}

async function kernelBinary(relaxed: boolean): Promise<Uint8Array> {
  const sources = readSources();
  const options = compilerOptions(relaxed);
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')).version;
  } catch {
    // Not installed: only a cached binary can help, and its key must not depend on the version.
  }
  const key = createHash('sha256').update(JSON.stringify({ sources, options, version })).digest('hex').slice(0, 16);
  // The two builds (with and without relaxed SIMD) are cached side by side.
  const prefix = relaxed ? 'wasm-kernels-fma-' : 'wasm-kernels-';
  const name = `${prefix}${key}.wasm`;
  for (const dir of cacheDirs()) {
    try {
      const bytes = readFileSync(join(dir, name));
      if (WA.validate(bytes)) return bytes;
    } catch {
      // Not cached there.
    }
  }
  emitEngineNotice({
    kind: 'compile',
    phase: 'start',
    text: "compiling the CPU backend's WebAssembly kernels: this happens once (the result is cached), and takes up to a minute or so on a busy machine...",
  });
  const started = performance.now();
  let bytes: Uint8Array;
  try {
    bytes = await compile(sources, options);
  } catch (err) {
    emitEngineNotice({ kind: 'compile', phase: 'done', text: `compiling the WebAssembly kernels failed: ${(err as Error).message.split('\n')[0]}` });
    throw err;
  }
  emitEngineNotice({ kind: 'compile', phase: 'done', text: `compiled the WebAssembly kernels in ${((performance.now() - started) / 1000).toFixed(1)} s; later runs start at once` });
  for (const dir of cacheDirs()) {
    try {
      mkdirSync(dir, { recursive: true });
      // Write then rename: another process compiling at the same time never reads half a file.
      const tmp = join(dir, `${name}.${process.pid}.tmp`);
      writeFileSync(tmp, bytes);
      renameSync(tmp, join(dir, name));
      // Builds of older sources are dead weight now.
      const stale = relaxed ? /^wasm-kernels-fma-[0-9a-f]+\.wasm$/ : /^wasm-kernels-[0-9a-f]+\.wasm$/;
      for (const f of readdirSync(dir)) if (stale.test(f) && f !== name) rmSync(join(dir, f), { force: true });
      break;
    } catch {
      // Read-only install: try the next place; without any, compile again next time.
    }
  }
  return bytes;
}

let loading: Promise<WasmModule> | null = null;
let fused = false;

/** Whether the loaded kernels multiply-add with one fused instruction (relaxed SIMD); false until loaded. */
export function kernelsUseFma(): boolean {
  return fused;
}

/** The compiled kernel module (compiled or read from the cache once per process). */
export function loadKernelModule(): Promise<WasmModule> {
  loading ??= (async () => {
    if (typeof SharedArrayBuffer === 'undefined') throw new WasmUnavailable('SharedArrayBuffer is not available');
    const relaxed = relaxedSimd();
    const bytes = await kernelBinary(relaxed);
    let module: WasmModule;
    try {
      module = await WA.compile(bytes);
    } catch (err) {
      throw new WasmUnavailable(`this runtime cannot compile the kernels (WebAssembly SIMD and threads are required): ${(err as Error).message}`);
    }
    fused = relaxed;
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
