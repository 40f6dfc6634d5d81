/**
 * A tiled GEMM template, C[M, N] = A[M, K] * B[K, N], that convolutions (implicit GEMM: B is the
 * im2col matrix, never materialised), 1x1 convolutions and linear layers fill in with their own
 * loads and epilogue. The z workgroup index selects an independent problem (batch x group).
 *
 * A workgroup computes a BM x BN tile of C; each of its (BN/4) x (BM/TM) threads a TM x 4 register
 * tile (TM = 4, or 16 on 64 x 64 tiles). Per step of BK = 16 along K the workgroup stages A
 * (BK x BM) and B (BK x BN) in workgroup memory as vec4s, so each thread does TM/4 + 1 vec4 reads
 * of workgroup memory per 4 * TM multiply-adds: 16 rows per thread read 0.31 floats per
 * multiply-add where 4 rows read 0.5. Those reads bound a GEMM on a CPU rasterizer (llvmpipe
 * gathers every one; 16 rows made conv 3x3 64->64 @56 44 -> 33 ms there) and on many GPUs alike.
 *
 * The caller's WGSL (`body`) declares its bindings and `u` (uniformsWgsl, with i32 fields M, N, K)
 * and defines:
 *   fn aLoad(m: i32, k: i32) -> f32          A[m][k]; called only for m < M, k < K
 *   fn bInit(n: i32)                          once per thread before the K loop: n is the first of
 *                                             the thread's 4 columns (may be >= N); set up
 *                                             var<private> state for bLoad here
 *   fn bLoad(k: i32) -> vec4<f32>             B[k][n .. n+3] of those columns, zero past N; k < K
 *   fn cStore(m: i32, n: i32, v: vec4<f32>)   C[m][n .. n+3]; called for m < M, n < N: must skip
 *                                             columns n + q >= N itself
 * and may read `gz` (a var<private> i32: workgroup_id.z).
 */
import type { GpuLimits } from '../../ops/types.ts';

export interface GemmTile {
  /** Rows (M) and columns (N) of C per workgroup: 16, 32 or 64 each. */
  bm: number;
  bn: number;
  /** Rows of C per thread: 4, or 16 on 64 x 64 tiles. */
  tm: number;
}

const BK = 16;

export function gemmThreads(t: GemmTile): number {
  return (t.bm / t.tm) * (t.bn / 4);
}

/**
 * The largest tile that does not waste most of a workgroup on a small M or N and fits the
 * device's invocation limit (compatibility devices may allow only 128).
 */
export function gemmTileFor(M: number, N: number, limits: GpuLimits): GemmTile {
  let bm = M > 32 ? 64 : M > 16 ? 32 : 16;
  let bn = N > 32 || bm < 64 ? 64 : 32;
  const tm = bm === 64 && bn === 64 ? 16 : 4;
  while (gemmThreads({ bm, bn, tm }) > limits.maxComputeInvocationsPerWorkgroup) {
    if (bn >= bm) bn /= 2;
    else bm /= 2;
  }
  // TX and TY must divide BK, and a workgroup needs at least 64 threads to load a tile in passes.
  if (gemmThreads({ bm, bn, tm }) < 64) throw new Error(`the device allows only ${limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup`);
  return { bm, bn, tm };
}

/** Workgroup counts for an M x N problem, `batches` of them along z. */
export function gemmWorkgroups(t: GemmTile, M: number, N: number, batches: number): [number, number, number] {
  return [Math.ceil(N / t.bn), Math.ceil(M / t.bm), batches];
}

export function gemmWgsl(t: GemmTile, body: string): string {
  const tx = t.bn / 4;
  const ty = t.bm / t.tm;
  const groups = t.tm / 4;
  const accs = Array.from({ length: t.tm }, (_, r) => r);
  const reads = Array.from({ length: groups }, (_, g) => `let a${g} = As[k * AV + ty * ${groups} + ${g}];`).join('\n      ');
  const fmas = accs.map((r) => `acc${r} += a${r >> 2}.${'xyzw'[r & 3]} * b;`).join('\n      ');
  const stores = accs.map((r) => `if (m + ${r} < u.M) { cStore(m + ${r}, n, acc${r}); }`).join('\n    ');
  return /* wgsl */ `
${body}
const BK = ${BK};
const TX = ${tx};
const TY = ${ty};
const AV = ${t.bm / 4};
const THREADS = ${tx * ty};
var<workgroup> As: array<vec4<f32>, ${BK * (t.bm / 4)}>;
var<workgroup> Bs: array<vec4<f32>, ${BK * tx}>;
var<private> gz: i32;

@compute @workgroup_size(${tx}, ${ty}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  gz = i32(wid.z);
  let tx = i32(lid.x);
  let ty = i32(lid.y);
  let tid = ty * TX + tx;
  let m0 = i32(wid.y) * ${t.bm};
  let n0 = i32(wid.x) * ${t.bn};
  bInit(n0 + tx * 4);
  ${accs.map((r) => `var acc${r} = vec4<f32>();`).join('\n  ')}
  for (var k0 = 0; k0 < u.K; k0 += BK) {
    // A: adjacent threads take adjacent k of the same 4 rows, so global reads along a row coalesce.
    for (var r = 0; r < ${(BK * (t.bm / 4)) / (tx * ty)}; r++) {
      let idx = tid + r * THREADS;
      let k = idx % BK;
      let mg = idx / BK;
      let kk = k0 + k;
      let m = m0 + mg * 4;
      var a = vec4<f32>();
      if (kk < u.K) {
        if (m < u.M) { a.x = aLoad(m, kk); }
        if (m + 1 < u.M) { a.y = aLoad(m + 1, kk); }
        if (m + 2 < u.M) { a.z = aLoad(m + 2, kk); }
        if (m + 3 < u.M) { a.w = aLoad(m + 3, kk); }
      }
      As[k * AV + mg] = a;
    }
    // B: each thread fills its own 4 columns, rows ty, ty + TY, ...
    for (var r = 0; r < BK / TY; r++) {
      let k = ty + r * TY;
      var b = vec4<f32>();
      if (k0 + k < u.K) { b = bLoad(k0 + k); }
      Bs[k * TX + tx] = b;
    }
    workgroupBarrier();
    for (var k = 0; k < BK; k++) {
      ${reads}
      let b = Bs[k * TX + tx];
      ${fmas}
    }
    workgroupBarrier();
  }
  let n = n0 + tx * 4;
  let m = m0 + ty * ${t.tm};
  if (n < u.N) {
    ${stores}
  }
}
`;
}
