import type { KernelExports } from '../../backends/cpu/wasm/module.ts';
import { epilogue, gemmTmpBytes, packRows, roundUp, windowScratchBytes, type WasmKernel, type WasmKernelArgs, type WasmPlanArgs } from '../../backends/cpu/wasm/types.ts';
import type { Conv2dAttrs } from './index.ts';

/** Bytes of the packed B tile: K x T floats, about L2-sized so it stays put while A streams past. */
const B_TILE_BYTES = 192 * 1024;

function isDepthwise(a: Conv2dAttrs): boolean {
  return a.cin / a.groups === 1 && a.groups > 1;
}

/**
 * 3x3, stride 1, dilation 1, with enough channels that the GEMMs dominate the transforms: Winograd
 * (winograd.as), F(2x2, 3x3) with 2.25 times fewer multiplies than im2col + GEMM, or F(4x4, 3x3)
 * with 4 times fewer (winoTile).
 */
function isWinograd(a: Conv2dAttrs): boolean {
  return (
    a.kernel[0] === 3 && a.kernel[1] === 3 && a.stride[0] === 1 && a.stride[1] === 1 && a.dilation[0] === 1 && a.dilation[1] === 1 &&
    a.cin / a.groups >= 16 && a.cout / a.groups >= 16 && Math.ceil(a.ho / 2) * Math.ceil(a.wo / 2) >= WINO_MIN_TILES
  );
}

/**
 * The Winograd variant: F(4x4, 3x3) (36 multiplies per 16 outputs) where the map has at least
 * WINO_MIN_TILES tiles of 4x4 (24x24 and up), else F(2x2, 3x3) (16 per 4). Its larger transforms
 * cost more rounding: against the direct convolution its scaled error is about 5e-6 with 128
 * input channels, where F(2x2)'s is below 1e-6 (test/cpu-wasm.test.ts holds both to 1e-5). On
 * ResNet's 64@56 and 128@28 3x3s it is 12% and 20% faster than F(2x2) on 2 threads.
 */
function winoTile(a: Conv2dAttrs): 2 | 4 {
  return Math.ceil(a.ho / 4) * Math.ceil(a.wo / 4) >= WINO_MIN_TILES ? 4 : 2;
}

/**
 * Winograd's transformed weights are 16/9 (F(4x4): 4 times) the size of the kernel and are read once per band of
 * tiles: on a small map (ResNet's 7x7, 16 tiles) that weight traffic, not the multiplies, is the
 * cost, and the plain GEMM (weights read once) is 2-3x faster. 14x14 (49 tiles) gains from it.
 */
const WINO_MIN_TILES = 36;

/**
 * A 1x1 convolution of a 1x1 map (SE blocks' excitation layers): a matrix-vector product per
 * sample, y = W x + b, straight off the weights (linear.as gemv); as a GEMM it would pad its
 * single column to a panel of 8.
 */
function isGemv(a: Conv2dAttrs): boolean {
  return a.h === 1 && a.w === 1 && a.ho === 1 && a.wo === 1 && a.groups === 1 && a.kernel[0] === 1 && a.kernel[1] === 1 && a.pads.every((p) => p === 0);
}

/** Output channels per GEMV unit. */
const GEMV_ROWS = 64;

/** Scratch of the F(4x4) transforms (winograd.as: wino4_input's 1152 bytes, then the tail). */
const WINO_WORK_BYTES = 1152;

/** Bytes of the 16 (or 36) B-panel sets of one Winograd band: their size bounds the band (L2-sized). */
const WINO_B_BYTES = 768 * 1024;

interface WinoTiling {
  /** Outputs per tile side (F(m x m, 3x3)) and transformed values per tile ((m + 2)^2). */
  m: 2 | 4;
  xis: number;
  cinG: number;
  coutG: number;
  tilesY: number;
  tilesX: number;
  /** Tiles per tile row, padded to the 4 tiles a vector holds. */
  tilesX4: number;
  /** Tile rows per band, the bands, and the band's tiles padded to a GEMM panel (8). */
  RB: number;
  bands: number;
  Npad: number;
  MB: number;
  mBlocks: number;
  /** Floats per padded input row (wino_pad_cols). */
  padCols: number;
  /** Prologue units (0: none) and the channel slices of each band's input transform (see sharedPacking). */
  pre: number;
  cChunks: number;
}

function winoTiling(a: Conv2dAttrs, threads: number): WinoTiling {
  const m = winoTile(a);
  const xis = (m + 2) * (m + 2);
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const tilesY = Math.ceil(a.ho / m);
  const tilesX = Math.ceil(a.wo / m);
  const tilesX4 = roundUp(tilesX, 4);
  const jobs = a.n * a.groups;
  const want = 4 * threads;
  let RB = Math.max(1, Math.min(tilesY, Math.floor(WINO_B_BYTES / (xis * 4 * cinG) / tilesX4)));
  // Too few bands for the threads: narrower bands, rounded so there are at least `want` of them.
  // Splitting the output channels instead makes two threads transform the same band's input (a
  // band's channel blocks are consecutive units, taken one at a time): ResNet's 64-channel 3x3 at
  // 56x56 ran 20% slower that way.
  if (jobs * Math.ceil(tilesY / RB) < want) RB = Math.max(1, Math.floor(tilesY / Math.ceil(want / jobs)));
  const bands = Math.ceil(tilesY / RB);
  let mBlocks = 1;
  if (jobs * bands < want && coutG >= 64) mBlocks = Math.min(Math.ceil(coutG / 32), Math.ceil(want / (jobs * bands)));
  const MB = roundUp(Math.ceil(coutG / mBlocks), 4);
  mBlocks = Math.ceil(coutG / MB);
  const padCols = m === 4 ? 4 * tilesX4 + 4 : roundUp(2 * tilesX4 + 8, 4);
  const Npad = roundUp(RB * tilesX4, 8);
  return { m, xis, cinG, coutG, tilesY, tilesX, tilesX4, RB, bands, Npad, MB, mBlocks, padCols, ...sharedPacking(jobs, threads, mBlocks, bands, cinG, bands * xis * cinG * Npad * 4) };
}

/** F(4x4, 3x3)'s G (6 x 3), row by row. */
const G4 = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];

/** U = G g G^T (6 x 6) for every (output, input) channel pair, as 36 GEMM A operands per group. */
function winograd4Weights(a: Conv2dAttrs, w: Float32Array): Float32Array {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  // U[g][xi][o][c]
  const u = new Float32Array(a.groups * 36 * coutG * cinG);
  const gg = new Float64Array(18); // G g: 6 x 3
  const xi = coutG * cinG;
  for (let g = 0; g < a.groups; g++) {
    for (let o = 0; o < coutG; o++) {
      for (let c = 0; c < cinG; c++) {
        const k = ((g * coutG + o) * cinG + c) * 9;
        for (let i = 0; i < 6; i++) {
          for (let j = 0; j < 3; j++) gg[i * 3 + j] = G4[i][0] * w[k + j] + G4[i][1] * w[k + 3 + j] + G4[i][2] * w[k + 6 + j];
        }
        const at = (g * 36 * coutG + o) * cinG + c;
        for (let i = 0; i < 6; i++) {
          for (let j = 0; j < 6; j++) u[at + (i * 6 + j) * xi] = G4[j][0] * gg[i * 3] + G4[j][1] * gg[i * 3 + 1] + G4[j][2] * gg[i * 3 + 2];
        }
      }
    }
  }
  return packRows(u, a.groups * 36, coutG, cinG);
}

/** U = G g G^T for every (output, input) channel pair, as 16 GEMM A operands per group. */
function winogradWeights(a: Conv2dAttrs, w: Float32Array): Float32Array {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  // U[g][xi][o][c]
  const u = new Float32Array(a.groups * 16 * coutG * cinG);
  const gg = new Float64Array(12); // G g: 4 x 3
  for (let g = 0; g < a.groups; g++) {
    for (let o = 0; o < coutG; o++) {
      for (let c = 0; c < cinG; c++) {
        const k = ((g * coutG + o) * cinG + c) * 9;
        for (let j = 0; j < 3; j++) {
          const g0 = w[k + j], g1 = w[k + 3 + j], g2 = w[k + 6 + j];
          gg[j] = g0;
          gg[3 + j] = 0.5 * (g0 + g1 + g2);
          gg[6 + j] = 0.5 * (g0 - g1 + g2);
          gg[9 + j] = g2;
        }
        // (G g) G^T, row by row: xi = 4 i + j.
        for (let i = 0; i < 4; i++) {
          const r0 = gg[i * 3], r1 = gg[i * 3 + 1], r2 = gg[i * 3 + 2];
          const at = ((g * 16 + i * 4) * coutG + o) * cinG + c;
          const xi = coutG * cinG;
          u[at] = r0;
          u[at + xi] = 0.5 * (r0 + r1 + r2);
          u[at + 2 * xi] = 0.5 * (r0 - r1 + r2);
          u[at + 3 * xi] = r2;
        }
      }
    }
  }
  return packRows(u, a.groups * 16, coutG, cinG);
}

interface Tiling {
  cinG: number;
  coutG: number;
  K: number;
  P: number;
  /** Output positions per tile (a multiple of 8). */
  T: number;
  tiles: number;
  /** Output channels per unit (a multiple of 4) and the blocks of them. */
  MB: number;
  mBlocks: number;
  pointwise: boolean;
  /** Prologue units (0: none) and the channel slices each tile's packing is split into (see sharedPacking). */
  pre: number;
  cChunks: number;
}

/**
 * Units are (sample, group, tile of output positions, block of output channels). Tiles are cut
 * to fit the cache; then, until every thread has about four units (so two threads finish together
 * on small feature maps too), the output channels are split into blocks, and only if that is not
 * enough are the tiles cut smaller. Last, the units are made a multiple of the threads, of one
 * size each. Channel blocks first: each unit then reads its block of the
 * weights once, where narrow tiles would stream all the weights once per tile (on ResNet's 7x7
 * maps, 2048 x 512 weights for 8 columns at a time: memory-bound).
 */
function tiling(a: Conv2dAttrs, threads: number): Tiling {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const K = cinG * a.kernel[0] * a.kernel[1];
  const P = a.ho * a.wo;
  const jobs = a.n * a.groups;
  const want = 4 * threads;
  // A small map (up to 64 positions) is one tile whatever K: its B stays small per K block.
  const tMax = P <= 64 ? roundUp(P, 8) : Math.max(8, Math.min(512, Math.floor(B_TILE_BYTES / (4 * K) / 8) * 8));
  const maxTiles = Math.ceil(P / 8);
  const maxBlocks = Math.max(1, Math.ceil(coutG / 32));
  let tiles = Math.ceil(P / tMax);
  let mBlocks = 1;
  if (jobs * tiles < want && coutG >= 64) mBlocks = Math.min(maxBlocks, Math.ceil(want / (jobs * tiles)));
  if (jobs * tiles * mBlocks < want) tiles = Math.min(maxTiles, Math.ceil(want / (jobs * mBlocks)));
  // As many units as makes them a multiple of the threads, all of one size: an odd unit out keeps
  // one thread busy while the other waits (9 units on 2 threads: 5 against 4), and a last tile of
  // a few columns streams a whole block of the weights for them (196 positions in tiles of 192).
  const even = () => (jobs * tiles * mBlocks) % threads === 0;
  while (!even() && mBlocks > 1 && mBlocks < maxBlocks) mBlocks++;
  while (!even() && tiles < maxTiles) tiles++;
  const T = roundUp(Math.ceil(P / tiles), 8);
  tiles = Math.ceil(P / T);
  const MB = roundUp(Math.ceil(coutG / mBlocks), 4);
  mBlocks = Math.ceil(coutG / MB);
  const pointwise = a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.pads.every((p) => p === 0);
  return { cinG, coutG, K, P, T, tiles, MB, mBlocks, pointwise, ...sharedPacking(jobs, threads, mBlocks, tiles, cinG, K * T * tiles * 4) };
}

/** The most shared scratch a call packs its input into (sharedPacking). */
const SHARED_MAX_BYTES = 4 << 20;

/**
 * When output channels are split into blocks, the blocks of one tile (or band) all read the same
 * packed input, and the threads taking them would each pack it. Instead, for one sample of one
 * group, a prologue packs every tile once into the shared scratch, each unit a slice of the input
 * channels of one tile, before any GEMM unit starts (WasmKernel.prologueUnits): on ResNet's 7x7
 * and 14x14 maps that packing was a tenth of each thread's time, done twice.
 */
function sharedPacking(jobs: number, threads: number, mBlocks: number, spatial: number, cinG: number, bytes: number): { pre: number; cChunks: number } {
  if (threads < 2 || jobs !== 1 || mBlocks < 2 || bytes > SHARED_MAX_BYTES) return { pre: 0, cChunks: 0 };
  const cChunks = Math.min(cinG, Math.ceil((2 * threads) / spatial));
  return { pre: spatial * cChunks, cChunks };
}

/** Input channels [c0, c1) of slice `ch` of `chunks`. */
function channelSlice(ch: number, chunks: number, cinG: number): [number, number] {
  return [Math.floor((ch * cinG) / chunks), Math.floor(((ch + 1) * cinG) / chunks)];
}

/**
 * Unit u of the GEMM and Winograd paths, in the order `units` counts them: the channel block
 * varies fastest, then the spatial block (tile of positions, or band of tile rows), the group and
 * the sample. `rest` is the same for every channel block of one spatial block, so consecutive
 * units can reuse its packed input.
 */
function unitOf(u: number, mBlocks: number, blocks: number, groups: number): { mb: number; rest: number; block: number; g: number; n: number } {
  const rest = Math.floor(u / mBlocks);
  const job = Math.floor(rest / blocks);
  return { mb: u % mBlocks, rest, block: rest % blocks, g: job % groups, n: Math.floor(job / groups) };
}

/**
 * Three ways, chosen per use of the op:
 * - depthwise (one input channel per group): direct (window.as), one output plane per unit; as a
 *   GEMM it would have K = kh * kw and nothing to reuse;
 * - 3x3 stride 1 with 16+ channels per group: Winograd F(4x4, 3x3) or F(2x2, 3x3) (winograd.as + gemm.as);
 * - everything else: packed GEMM (gemm.as), C[cout_g, positions] = W_g x B with B the im2col of a
 *   tile of output positions packed straight into GEMM panels (conv.as); a 1x1 stride-1
 *   convolution packs its input plane as is (no im2col).
 * The weights are rearranged once, at prepare time.
 */
export const conv2dWasm: WasmKernel<Conv2dAttrs> = {
  pack(a, [w, b]) {
    if (isDepthwise(a) || isGemv(a)) return b ? [w, b] : [w];
    if (isWinograd(a)) return [(winoTile(a) === 4 ? winograd4Weights : winogradWeights)(a, w), ...(b ? [b] : [])];
    const t = tiling(a, 1);
    return [packRows(w, a.groups, t.coutG, t.K), ...(b ? [b] : [])];
  },
  activations: ['relu', 'relu6'],
  fusesResidual: true,
  units({ attrs: a, threads }: WasmPlanArgs<Conv2dAttrs>) {
    if (isDepthwise(a)) return a.n * a.cout;
    if (isGemv(a)) return a.n * Math.ceil(a.cout / GEMV_ROWS);
    if (isWinograd(a)) {
      const t = winoTiling(a, threads);
      return t.pre + a.n * a.groups * t.bands * t.mBlocks;
    }
    const t = tiling(a, threads);
    return t.pre + a.n * a.groups * t.tiles * t.mBlocks;
  },
  prologueUnits({ attrs: a, threads }) {
    if (isDepthwise(a) || isGemv(a)) return 0;
    return isWinograd(a) ? winoTiling(a, threads).pre : tiling(a, threads).pre;
  },
  sharedBytes({ attrs: a, threads }) {
    if (isDepthwise(a) || isGemv(a)) return 0;
    if (isWinograd(a)) {
      const t = winoTiling(a, threads);
      return t.pre ? t.bands * t.xis * t.cinG * t.Npad * 4 : 0;
    }
    const t = tiling(a, threads);
    return t.pre ? t.tiles * t.K * t.T * 4 : 0;
  },
  scratchBytes({ attrs: a, threads }) {
    if (isGemv(a)) return 0;
    if (isDepthwise(a)) return windowScratchBytes(a.h, a.w, a.kernel, a.stride, a.pads, a.dilation, a.ho, a.wo);
    if (isWinograd(a)) {
      const t = winoTiling(a, threads);
      return ((t.m * t.RB + 2) * t.padCols + t.xis * t.cinG * t.Npad + t.xis * t.MB * t.Npad) * 4 + gemmTmpBytes(t.MB, t.Npad) + WINO_WORK_BYTES + 64;
    }
    const t = tiling(a, threads);
    return t.K * t.T * 4 + gemmTmpBytes(t.MB, t.T) + 64;
  },
  run(k, args, start, end) {
    if (isDepthwise(args.attrs)) return depthwise(k, args, start, end);
    if (isGemv(args.attrs)) return gemv(k, args, start, end);
    if (isWinograd(args.attrs)) return winograd(k, args, start, end);
    const { attrs: a, threads, x: [x], w: [wp, bias], y, scratch, shared } = args;
    const t = tiling(a, threads);
    const [kh, kw] = a.kernel;
    const tileBytes = t.K * t.T * 4;
    const tmp = scratch + tileBytes;
    const lanes = tmp + gemmTmpBytes(t.MB, t.T);
    const planeBytes = a.h * a.w * 4;
    const groupA = Math.ceil(t.coutG / 4) * 4 * t.K * 4;
    // Input channels [c0, c1) of one tile of positions into B panels of K rows.
    const pack = (n: number, g: number, tile: number, c0: number, c1: number, dst: number) => {
      const p0 = tile * t.T;
      const cols = Math.min(t.T, t.P - p0);
      const xc = x + (n * a.cin + g * t.cinG + c0) * planeBytes;
      if (t.pointwise) k.pack_b_rows(xc + p0 * 4, planeBytes, c1 - c0, cols, dst + c0 * 32, t.K);
      else k.pack_b_conv(xc, c1 - c0, a.h, a.w, kh, kw, a.stride[0], a.stride[1], a.pads[0], a.pads[1], a.dilation[0], a.dilation[1], a.wo, p0, cols, dst + c0 * kh * kw * 32, lanes, t.K);
    };
    let packed = -1;
    for (let u = start; u < end; u++) {
      if (u < t.pre) {
        const [c0, c1] = channelSlice(u % t.cChunks, t.cChunks, t.cinG);
        const tile = Math.floor(u / t.cChunks);
        pack(0, 0, tile, c0, c1, shared + tile * tileBytes);
        continue;
      }
      const { mb, rest, block: tile, g, n } = unitOf(u - t.pre, t.mBlocks, t.tiles, a.groups);
      const p0 = tile * t.T;
      const cols = Math.min(t.T, t.P - p0);
      let bTile = scratch;
      if (t.pre) bTile = shared + tile * tileBytes;
      else if (packed !== rest) {
        // Consecutive units of the same tile (other channel blocks) reuse the packed B.
        pack(n, g, tile, 0, t.cinG, bTile);
        packed = rest;
      }
      const m0 = mb * t.MB;
      const M = Math.min(t.MB, t.coutG - m0);
      const c = y + ((n * a.cout + g * t.coutG + m0) * t.P + p0) * 4;
      k.gemm(M, cols, t.K, wp + g * groupA, roundUp(t.coutG, 4), m0, bTile, c, t.P * 4, bias === undefined ? 0 : bias + (g * t.coutG + m0) * 4, tmp);
      epilogue(k, args, c, M, cols, t.P * 4);
    }
  },
};

function gemv(k: KernelExports, args: WasmKernelArgs<Conv2dAttrs>, start: number, end: number): void {
  const { attrs: a, x: [x], w: [wt, bias], y } = args;
  const blocks = Math.ceil(a.cout / GEMV_ROWS);
  for (let u = start; u < end; u++) {
    const n = Math.floor(u / blocks);
    const f0 = (u - n * blocks) * GEMV_ROWS;
    const f1 = Math.min(a.cout, f0 + GEMV_ROWS);
    const out = y + n * a.cout * 4;
    k.gemv(x + n * a.cin * 4, a.cin, wt, f0, f1, bias === undefined ? 0 : bias, out);
    epilogue(k, args, out + f0 * 4, 1, f1 - f0, (f1 - f0) * 4);
  }
}

function depthwise(k: KernelExports, args: WasmKernelArgs<Conv2dAttrs>, start: number, end: number): void {
  const { attrs: a, x: [x], w: [wt, bias], y, scratch } = args;
  const [kh, kw] = a.kernel;
  const [pt, pl, pb, pr] = a.pads;
  const mult = a.cout / a.groups;
  const plane = a.h * a.w * 4;
  const P = a.ho * a.wo * 4;
  for (let u = start; u < end; u++) {
    const n = Math.floor(u / a.cout);
    const co = u - n * a.cout;
    const ci = Math.floor(co / mult);
    k.dw_plane(
      x + (n * a.cin + ci) * plane, a.h, a.w, kh, kw, a.stride[0], a.stride[1], pt, pl, pb, pr, a.dilation[0], a.dilation[1],
      a.ho, a.wo, wt + co * kh * kw * 4, bias === undefined ? 0 : bias + co * 4, y + u * P, scratch,
    );
    epilogue(k, args, y + u * P, 1, a.ho * a.wo, P);
  }
}

function winograd(k: KernelExports, args: WasmKernelArgs<Conv2dAttrs>, start: number, end: number): void {
  const { attrs: a, threads, x: [x], w: [wp, bias], y, scratch } = args;
  const t = winoTiling(a, threads);
  const [pt, pl] = a.pads;
  const plane = a.h * a.w * 4;
  const P = a.ho * a.wo;
  const pad = scratch;
  const ownSets = pad + (t.m * t.RB + 2) * t.padCols * 4;
  const xiStride = t.cinG * t.Npad * 4;
  const mBufs = ownSets + t.xis * xiStride;
  const mStride = t.MB * t.Npad * 4;
  const tmp = mBufs + t.xis * mStride;
  const work = tmp + gemmTmpBytes(t.MB, t.Npad);
  const tail = work + WINO_WORK_BYTES;
  const rowsA = roundUp(t.coutG, 4);
  const xiA = rowsA * t.cinG * 4;
  const groupA = t.xis * xiA;
  // Input channels [c0, c1) of one band, transformed into its B panel sets at `dst`.
  const transform = (n: number, g: number, band: number, c0: number, c1: number, dst: number) => {
    const ty0 = band * t.RB;
    const rb = Math.min(t.RB, t.tilesY - ty0);
    const xg = x + (n * a.cin + g * t.cinG) * plane;
    for (let c = c0; c < c1; c++) {
      if (t.m === 4) k.wino4_input(xg + c * plane, a.h, a.w, pt, pl, ty0, rb, t.tilesX4, t.padCols, pad, c, t.cinG, xiStride, dst, work);
      else k.wino_input(xg + c * plane, a.h, a.w, pt, pl, ty0, rb, t.tilesX4, t.padCols, pad, c, t.cinG, xiStride, dst);
    }
  };
  const bandBytes = t.xis * xiStride;
  let transformed = -1;
  for (let u = start; u < end; u++) {
    if (u < t.pre) {
      const [c0, c1] = channelSlice(u % t.cChunks, t.cChunks, t.cinG);
      const band = Math.floor(u / t.cChunks);
      transform(0, 0, band, c0, c1, args.shared + band * bandBytes);
      continue;
    }
    const { mb, rest, block: band, g, n } = unitOf(u - t.pre, t.mBlocks, t.bands, a.groups);
    const ty0 = band * t.RB;
    const rb = Math.min(t.RB, t.tilesY - ty0);
    const N = rb * t.tilesX4;
    let bSets = ownSets;
    if (t.pre) bSets = args.shared + band * bandBytes;
    else if (transformed !== rest) {
      // Consecutive units of one band (other channel blocks) share its input transform.
      transform(n, g, band, 0, t.cinG, bSets);
      transformed = rest;
    }
    const m0 = mb * t.MB;
    const M = Math.min(t.MB, t.coutG - m0);
    const aG = wp + g * groupA;
    for (let xi = 0; xi < t.xis; xi++) k.gemm(M, N, t.cinG, aG + xi * xiA, rowsA, m0, bSets + xi * xiStride, mBufs + xi * mStride, N * 4, 0, tmp);
    const out = y + (n * a.cout + g * t.coutG + m0) * P * 4;
    const b = bias === undefined ? 0 : bias + (g * t.coutG + m0) * 4;
    if (t.m === 4) k.wino4_output(mBufs, mStride, M, N, rb, t.tilesX, t.tilesX4, ty0, a.ho, a.wo, b, out, P, work, tail);
    else k.wino_output(mBufs, mStride, M, N, rb, t.tilesX, t.tilesX4, ty0, a.ho, a.wo, b, out, P, tail);
    // The band's output rows, in each of its M channels.
    const y0 = t.m * ty0;
    const y1 = Math.min(a.ho, t.m * (ty0 + rb));
    epilogue(k, args, out + y0 * a.wo * 4, M, (y1 - y0) * a.wo, P * 4);
  }
}
