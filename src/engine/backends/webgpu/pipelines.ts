/**
 * Turns a kernel's planned dispatches into pipelines, uniform buffers and bind groups, once per
 * prepared model. Pipelines are cached per device by WGSL text and binding layout, so convolutions
 * that differ only in shape (uniforms) compile once.
 */
import { packUniforms } from '../../kernels/wgsl/common.ts';
import type { GpuBinding, GpuBufferRef, GpuDispatch, GpuLimits } from '../../ops/types.ts';
import { STAGE_COMPUTE, USAGE } from './gpu.ts';

/** A GPU buffer holding a tensor of `bytes` (the buffer itself may be larger: pooled). */
export interface Placed {
  buffer: GPUBuffer;
  bytes: number;
}

export interface CompiledDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export function accessOf(b: GpuBinding): 'read' | 'read_write' {
  return b.access ?? ('input' in b.buffer || 'weight' in b.buffer ? 'read' : 'read_write');
}

function refText(ref: GpuBufferRef): string {
  if ('input' in ref) return `input ${ref.input}`;
  if ('weight' in ref) return `weight ${ref.weight}`;
  if ('scratch' in ref) return `scratch ${ref.scratch}`;
  return 'output';
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<Pipeline>>();
  /** Distinct pipelines compiled, for tests and the report. */
  get size(): number {
    return this.pipelines.size;
  }

  constructor(private readonly device: GPUDevice) {}

  get(code: string, layout: string[], hasUniforms: boolean): Promise<Pipeline> {
    const key = `${layout.join(',')}|${hasUniforms}\n${code}`;
    let entry = this.pipelines.get(key);
    if (!entry) {
      entry = this.create(code, layout, hasUniforms);
      this.pipelines.set(key, entry);
      entry.catch(() => this.pipelines.delete(key));
    }
    return entry;
  }

  private async create(code: string, layout: string[], hasUniforms: boolean): Promise<Pipeline> {
    const entries: GPUBindGroupLayoutEntry[] = layout.map((access, binding) => ({
      binding,
      visibility: STAGE_COMPUTE,
      buffer: { type: access === 'read' ? 'read-only-storage' : 'storage' },
    }));
    if (hasUniforms) entries.push({ binding: layout.length, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } });
    const bindGroupLayout = this.device.createBindGroupLayout({ entries });
    const module = this.device.createShaderModule({ code });
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
        compute: { module, entryPoint: 'main' },
      });
      return { pipeline, layout: bindGroupLayout };
    } catch (err) {
      // The compiler's messages (with WGSL line numbers) are what a kernel author needs.
      const info = await module.getCompilationInfo();
      const messages = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}:${m.linePos} ${m.message}`);
      throw new Error(`${(err as Error).message}${messages.length ? `\n${messages.join('\n')}` : ''}`);
    }
  }
}

/**
 * Creates the pipeline, uniform buffer and bind group of one dispatch. `resolve` maps a buffer
 * reference of the op to a placed tensor. Throws plain Errors; the caller names the op.
 */
export async function compileDispatch(
  device: GPUDevice,
  cache: PipelineCache,
  limits: GpuLimits,
  d: GpuDispatch,
  resolve: (ref: GpuBufferRef) => Placed,
  owned: { destroy(): void }[],
): Promise<CompiledDispatch> {
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (d.workgroups.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
    throw new Error(`workgroups [${d.workgroups.join(', ')}] are outside 1..${max} per dimension`);
  }
  const layout = d.bindings.map(accessOf);
  const { pipeline, layout: bindGroupLayout } = await cache.get(d.code, layout, !!d.uniforms);
  const entries: GPUBindGroupEntry[] = d.bindings.map((b, binding) => {
    const placed = resolve(b.buffer);
    const offset = b.offset ?? 0;
    const size = b.size ?? placed.bytes - offset;
    if (offset % limits.minStorageBufferOffsetAlignment !== 0) {
      throw new Error(`binding ${binding} (${refText(b.buffer)}) offset ${offset} is not a multiple of ${limits.minStorageBufferOffsetAlignment}`);
    }
    if (size > limits.maxStorageBufferBindingSize) {
      throw new Error(`binding ${binding} (${refText(b.buffer)}) of ${size} bytes exceeds maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`);
    }
    if (size <= 0 || offset + size > placed.bytes) throw new Error(`binding ${binding} (${refText(b.buffer)}) range ${offset}+${size} lies outside its ${placed.bytes} bytes`);
    return { binding, resource: { buffer: placed.buffer, offset, size } };
  });
  if (d.uniforms) {
    const data = packUniforms(d.uniforms);
    const buffer = device.createBuffer({ size: data.byteLength, usage: USAGE.UNIFORM | USAGE.COPY_DST });
    owned.push(buffer);
    device.queue.writeBuffer(buffer, 0, data);
    entries.push({ binding: d.bindings.length, resource: { buffer } });
  }
  const bindGroup = device.createBindGroup({ layout: bindGroupLayout, entries });
  return { pipeline, bindGroup, workgroups: d.workgroups };
}

/** Encodes a step's dispatches as one compute pass (its timestamps bracket all of them). */
export function encodePass(encoder: GPUCommandEncoder, dispatches: CompiledDispatch[], timestampWrites?: GPUComputePassTimestampWrites): void {
  const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
}
