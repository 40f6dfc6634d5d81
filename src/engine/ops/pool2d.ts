/**
 * Parameter rules shared by the sliding-window pools (max, avg, min, stochastic): PyTorch's
 * defaults (stride = kernel) and its limit that padding may be at most half the kernel.
 */
import type { Pads, Pair, ParamReader } from '../params.ts';
import type { Shape } from '../tensor.ts';
import { fmt, nchw, windowOutputs } from './common.ts';
import type { KernelArgs, OpDef, WebGpuKernel } from './types.ts';

export interface Pool2dAttrs {
  n: number;
  c: number;
  h: number;
  w: number;
  kernel: Pair;
  stride: Pair;
  /** [top, left, bottom, right]. */
  pads: Pads;
  dilation: Pair;
  ceilMode: boolean;
  ho: number;
  wo: number;
}

export interface Pool2dOptions {
  /** max/min take `dilation`; avg and stochastic do not (PyTorch's avg_pool2d has none). */
  dilation: boolean;
  ceilMode: boolean;
}

export function resolvePool2d(p: ParamReader, input: Shape, opts: Pool2dOptions): Pool2dAttrs {
  const [n, c, h, w] = nchw(p, input);
  const kernel = p.pair('kernel', { min: 1 });
  const stride = p.pair('stride', { default: kernel, min: 1 });
  const dilation: Pair = opts.dilation ? p.pair('dilation', { default: [1, 1], min: 1 }) : [1, 1];
  const ceilMode = opts.ceilMode ? p.bool('ceil_mode', false) : false;
  const pads = p.padding('padding', [h, w], kernel, stride, dilation);
  const [kh, kw] = kernel;
  const [limH, limW] = [Math.floor(kh / 2), Math.floor(kw / 2)];
  // PyTorch refuses this too: a wider pad lets whole windows fall into the padding, where a max
  // has nothing to pick and an average divides padding by itself.
  if (pads[0] > limH || pads[2] > limH || pads[1] > limW || pads[3] > limW) {
    p.fail(
      'padding',
      `[${pads.join(', ')}] (top, left, bottom, right) is more than half the ${kh}x${kw} kernel; ` +
        `padding must be <= ${limH} at the top and bottom and <= ${limW} at the left and right`,
    );
  }
  const [ho, wo] = windowOutputs(p, h, w, kernel, stride, pads, dilation, ceilMode);
  return { n, c, h, w, kernel, stride, pads, dilation, ceilMode, ho, wo };
}

/** Output elements times window elements, the count every sliding-window pool starts from. */
export function windowWork(a: Pool2dAttrs): { outputs: number; perOutput: number; text: string } {
  const outputs = a.n * a.c * a.ho * a.wo;
  const perOutput = a.kernel[0] * a.kernel[1];
  return {
    outputs,
    perOutput,
    text: `N*C*H_out*W_out*kh*kw = ${a.n}*${a.c}*${a.ho}*${a.wo}*${a.kernel[0]}*${a.kernel[1]} = ${fmt(outputs * perOutput)}`,
  };
}

/**
 * Max (sign 1) or min (sign -1, as -max(-x)) over each window; one unit per (n, c) plane. Padded
 * cells are skipped, so they act as -inf / +inf and never win; Math.max propagates NaN, as
 * PyTorch's max pooling does.
 */
export function extremePool(args: KernelArgs<Pool2dAttrs>, start: number, end: number, sign: 1 | -1): void {
  const a = args.attrs;
  const x = args.inputs[0];
  const out = args.out;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const [pt, pl] = a.pads;
  const { h, w, ho, wo } = a;
  for (let u = start; u < end; u++) {
    const plane = u * h * w;
    let o = u * ho * wo;
    for (let oy = 0; oy < ho; oy++) {
      const y0 = oy * sh - pt;
      const i0 = firstTap(y0, dh);
      const i1 = endTap(y0, dh, kh, h);
      for (let ox = 0; ox < wo; ox++, o++) {
        const x0 = ox * sw - pl;
        const j0 = firstTap(x0, dw);
        const j1 = endTap(x0, dw, kw, w);
        let m = -Infinity;
        for (let i = i0; i < i1; i++) {
          const row = plane + (y0 + i * dh) * w + x0;
          for (let j = j0; j < j1; j++) m = Math.max(m, sign * x[row + j * dw]);
        }
        out[o] = sign * m;
      }
    }
  }
}

/** The first kernel tap of a window starting at `origin` that lands at or after 0. */
function firstTap(origin: number, dilation: number): number {
  return origin >= 0 ? 0 : Math.ceil(-origin / dilation);
}

/** One past the last kernel tap that lands before `size` (<= firstTap when none does). */
function endTap(origin: number, dilation: number, kernel: number, size: number): number {
  return origin >= size ? 0 : Math.min(kernel, Math.ceil((size - origin) / dilation));
}

export function planes({ attrs }: { attrs: Pool2dAttrs }): number {
  return attrs.n * attrs.c;
}

/**
 * max_pool2d and min_pool2d: the same parameter rules, counts and kernel, differing only in which
 * extreme of the window wins (sign 1: the largest, -1: the smallest).
 */
export function extremePoolOp(type: string, summary: string, sign: 1 | -1, webgpu: WebGpuKernel<Pool2dAttrs>): OpDef<Pool2dAttrs> {
  return {
    type,
    category: 'pooling',
    summary,
    arity: [1, 1],
    resolve(p, [input]) {
      const attrs = resolvePool2d(p, input, { dilation: true, ceilMode: true });
      const work = windowWork(attrs);
      return {
        attrs,
        output: [attrs.n, attrs.c, attrs.ho, attrs.wo],
        weights: [],
        counts: { macs: 0, flops: work.outputs * work.perOutput, formula: `FLOPs = ${work.text} (one compare per window element)` },
      };
    },
    cpu: {
      units: planes,
      run: (args, start, end) => extremePool(args, start, end, sign),
    },
    webgpu,
  };
}
