/**
 * add, sub, mul and div on WebGPU, with the CPU kernel's broadcasting plan (binary.ts: `inner` runs over
 * which each input steps with the output or repeats one value). Three kernels:
 * - equal shapes: one flat loop, vec4 when the size allows;
 * - per-run scalar (SE scaling, [N, C, H, W] x [N, C, 1, 1]): one input is the whole output shape,
 *   the other holds one value per run, so out[i] = a[i] op b[i / inner], vec4 when runs are;
 * - anything else: each output's input offsets from the output dims and both inputs' strides (up
 *   to MAX_DIMS outer dims, as uniforms), vec4 along runs whose length allows.
 * Large tensors are split into runs of whole items along the outermost dim (or flat, for equal
 * shapes) so every binding's slice fits.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { checkWhole, flatRunsOf, MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuBinding, GpuBufferRef, GpuDispatch, GpuLimits, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { BinaryAttrs } from './binary.ts';

/** Outer (non-run) output dims the general kernel indexes; more is refused. */
const MAX_DIMS = 6;

export const binaryWgsl: WebGpuKernel<BinaryAttrs> = {
  plan(args) {
    const t = args.attrs;
    if (t.same) return { dispatches: sameShape(args) };
    const perRun = perRunInput(args);
    if (perRun !== null) return { dispatches: scalarPerRun(args, perRun) };
    return { dispatches: general(args) };
  },
};

function opOf(t: BinaryAttrs): string {
  return { add: '+', sub: '-', mul: '*', div: '/' }[t.kind];
}

/** Operand 0 (a) or 1 (b) as a buffer: an input, or the op's weight (a constant operand). */
function operand(t: BinaryAttrs, which: 0 | 1): GpuBufferRef {
  if (t.weight === (which === 0 ? 'a' : 'b')) return { weight: 0 };
  return { input: t.weight === 'a' ? 0 : which };
}

const sizeOf = (t: BinaryAttrs, which: 0 | 1) => (which === 0 ? t.aSize : t.bSize);

function declarations(aType: string, bType: string, yType: string, fields: UniformField[]): string {
  return `
@group(0) @binding(0) var<storage, read> a: array<${aType}>;
@group(0) @binding(1) var<storage, read> b: array<${bType}>;
@group(0) @binding(2) var<storage, read_write> y: array<${yType}>;
${uniformsWgsl(fields, 3)}`;
}

function dispatch(code: string, bindings: GpuBinding[], fields: UniformField[], threads: number, limits: GpuLimits): GpuDispatch {
  return { code, bindings, uniforms: fields, workgroups: gridFor(Math.ceil(threads / WG), limits) };
}

function sameShape({ attrs: t, limits }: GpuPlanArgs<BinaryAttrs>): GpuDispatch[] {
  return flatRunsOf(t.total, limits).map(({ first, count }) => {
    const sa = sliceBinding(operand(t, 0), first, count, limits);
    const sb = sliceBinding(operand(t, 1), first, count, limits);
    const sy = sliceBinding({ output: true }, first, count, limits);
    const lanes = count % 4 === 0 && [sa, sb, sy].every((s) => s.base % 4 === 0) ? 4 : 1;
    const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
    const fields: UniformField[] = [
      ['total', 'i32', count / lanes],
      ['aBase', 'i32', sa.base / lanes],
      ['bBase', 'i32', sb.base / lanes],
      ['yBase', 'i32', sy.base / lanes],
    ];
    const code = `${declarations(ty, ty, ty, fields)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  y[u.yBase + t] = a[u.aBase + t] ${opOf(t)} b[u.bBase + t];
}
`;
    return dispatch(code, [sa.binding, sb.binding, sy.binding], fields, count / lanes, limits);
  });
}

/**
 * The input holding one value per run, when the other is the full output: the stepping input's
 * index is then the output's and the scalar's is the run's (its non-broadcast strides are the
 * contiguous strides of the outer dims, so the run index is its offset). Null otherwise.
 */
function perRunInput({ attrs: t }: GpuPlanArgs<BinaryAttrs>): 0 | 1 | null {
  const runs = t.total / t.inner;
  for (const s of [0, 1] as const) {
    const full = (1 - s) as 0 | 1;
    const steps = [t.aStep, t.bStep];
    const strides = [t.aStrides, t.bStrides];
    if (steps[full] !== 1 || steps[s] !== 0) continue;
    if (sizeOf(t, full) !== t.total || sizeOf(t, s) !== runs) continue;
    if (strides[s].some((st) => st === 0)) continue;
    return s;
  }
  return null;
}

function scalarPerRun({ attrs: t, limits }: GpuPlanArgs<BinaryAttrs>, scalar: 0 | 1): GpuDispatch[] {
  const full = 1 - scalar;
  const runs = t.total / t.inner;
  return runsOf(runs, t.inner * 4, limits, 'one broadcast run').map(({ first, count }) => {
    const sf = sliceBinding(operand(t, full as 0 | 1), first * t.inner, count * t.inner, limits);
    const ss = sliceBinding(operand(t, scalar), first, count, limits);
    const sy = sliceBinding({ output: true }, first * t.inner, count * t.inner, limits);
    const lanes = t.inner % 4 === 0 && sf.base % 4 === 0 && sy.base % 4 === 0 ? 4 : 1;
    const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
    const threads = (count * t.inner) / lanes;
    const fields: UniformField[] = [
      ['total', 'i32', threads],
      ['inner', 'i32', t.inner / lanes],
      ['fBase', 'i32', sf.base / lanes],
      ['sBase', 'i32', ss.base],
      ['yBase', 'i32', sy.base / lanes],
    ];
    // Operand order kept (a op b) so that float results match the CPU's exactly.
    const f = `full[u.fBase + t]`;
    const s = `${ty}(one[u.sBase + t / u.inner])`;
    const expr = scalar === 1 ? `${f} ${opOf(t)} ${s}` : `${s} ${opOf(t)} ${f}`;
    const code = `
@group(0) @binding(0) var<storage, read> full: array<${ty}>;
@group(0) @binding(1) var<storage, read> one: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<${ty}>;
${uniformsWgsl(fields, 3)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  y[u.yBase + t] = ${expr};
}
`;
    return dispatch(code, [sf.binding, ss.binding, sy.binding], fields, threads, limits);
  });
}

function general({ attrs: t, limits }: GpuPlanArgs<BinaryAttrs>): GpuDispatch[] {
  const nd = t.outerDims.length;
  if (nd > MAX_DIMS) throw new Error(`broadcasting over ${nd} outer dims; the WGSL kernel handles at most ${MAX_DIMS}`);
  // Split along the outermost outer dim; an input broadcast along it is bound whole in every run.
  const items = nd > 0 ? t.outerDims[0] : 1;
  const perItem = t.total / items;
  const aSplit = nd > 0 && t.aStrides[0] !== 0;
  const bSplit = nd > 0 && t.bStrides[0] !== 0;
  if (!aSplit) checkWhole(t.aSize, limits, 'operand a');
  if (!bSplit) checkWhole(t.bSize, limits, 'operand b');
  const bytes = Math.max(perItem, aSplit ? t.aStrides[0] : 0, bSplit ? t.bStrides[0] : 0) * 4;
  return runsOf(items, bytes, limits, 'one slice of the outermost dim').map(({ first, count }) => {
    const whole = (which: 0 | 1) => sliceBinding(operand(t, which), 0, sizeOf(t, which), limits);
    const sa = aSplit ? sliceBinding(operand(t, 0), first * t.aStrides[0], count * t.aStrides[0], limits) : whole(0);
    const sb = bSplit ? sliceBinding(operand(t, 1), first * t.bStrides[0], count * t.bStrides[0], limits) : whole(1);
    const sy = sliceBinding({ output: true }, first * perItem, count * perItem, limits);
    // vec4 along runs: 4 outputs of one run; a stepping input's 4 values are contiguous and
    // vec4-aligned (its outer strides are multiples of the run), a repeating one is one value.
    const vec = t.inner % 4 === 0 && sy.base % 4 === 0 && (t.aStep === 0 || sa.base % 4 === 0) && (t.bStep === 0 || sb.base % 4 === 0);
    const lanes = vec ? 4 : 1;
    const threads = (count * perItem) / lanes;
    const dims = [nd > 0 ? count : 1, ...t.outerDims.slice(1)];
    const fields: UniformField[] = [
      ['total', 'i32', threads],
      ['inner', 'i32', t.inner],
      ['aStep', 'i32', t.aStep],
      ['bStep', 'i32', t.bStep],
      ['aBase', 'i32', sa.base],
      ['bBase', 'i32', sb.base],
      ['yBase', 'i32', sy.base / lanes],
    ];
    for (let d = 0; d < MAX_DIMS; d++) {
      fields.push([`d${d}`, 'i32', dims[d] ?? 1], [`a${d}`, 'i32', t.aStrides[d] ?? 0], [`b${d}`, 'i32', t.bStrides[d] ?? 0]);
    }
    let decompose = '';
    for (let d = MAX_DIMS - 1; d >= 0; d--) {
      decompose += `  { let i = rest % u.d${d}; rest = rest / u.d${d}; ao += i * u.a${d}; bo += i * u.b${d}; }\n`;
    }
    const load = (name: string, step: number) => {
      if (!vec) return `${name}[${name}o]`;
      return step === 1 ? `${name}4[${name}o / 4]` : `vec4<f32>(${name}[${name}o])`;
    };
    const aType = vec && t.aStep === 1 ? 'vec4<f32>' : 'f32';
    const bType = vec && t.bStep === 1 ? 'vec4<f32>' : 'f32';
    const code = `
@group(0) @binding(0) var<storage, read> ${aType === 'f32' ? 'a' : 'a4'}: array<${aType}>;
@group(0) @binding(1) var<storage, read> ${bType === 'f32' ? 'b' : 'b4'}: array<${bType}>;
@group(0) @binding(2) var<storage, read_write> y: array<${vec ? 'vec4<f32>' : 'f32'}>;
${uniformsWgsl(fields, 3)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let o = t * ${lanes};
  var rest = o / u.inner;
  let i0 = o - rest * u.inner;
  var ao = u.aBase + i0 * u.aStep;
  var bo = u.bBase + i0 * u.bStep;
${decompose}  y[u.yBase + t] = ${load('a', t.aStep)} ${opOf(t)} ${load('b', t.bStep)};
}
`;
    return dispatch(code, [sa.binding, sb.binding, sy.binding], fields, threads, limits);
  });
}
