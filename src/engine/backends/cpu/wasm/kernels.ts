/** The ops that have a WebAssembly kernel (ops/<op>/wasm.ts); every other op runs its TypeScript kernel. */
import { binaryWasm } from '../../../ops/add/wasm.ts';
import { batchNormWasm } from '../../../ops/batch_norm/wasm.ts';
import { conv2dWasm } from '../../../ops/conv2d/wasm.ts';
import { convTranspose2dWasm } from '../../../ops/conv_transpose2d/wasm.ts';
import { deformConv2dWasm } from '../../../ops/deform_conv2d/wasm.ts';
import { globalAvgPoolWasm } from '../../../ops/global_avg_pool/wasm.ts';
import { linearWasm } from '../../../ops/linear/wasm.ts';
import { avgPool2dWasm, maxPool2dWasm, minPool2dWasm } from '../../../ops/pool2d-wasm.ts';
import { reluWasm } from '../../../ops/relu/wasm.ts';
import { relu6Wasm } from '../../../ops/relu6/wasm.ts';
import type { WasmKernel } from './types.ts';

export const WASM_KERNELS: ReadonlyMap<string, WasmKernel<any>> = new Map<string, WasmKernel<any>>([
  ['conv2d', conv2dWasm],
  ['conv_transpose2d', convTranspose2dWasm],
  ['deform_conv2d', deformConv2dWasm],
  ['linear', linearWasm],
  ['max_pool2d', maxPool2dWasm],
  ['min_pool2d', minPool2dWasm],
  ['avg_pool2d', avgPool2dWasm],
  ['global_avg_pool', globalAvgPoolWasm],
  ['batch_norm', batchNormWasm],
  ['relu', reluWasm],
  ['relu6', relu6Wasm],
  ['add', binaryWasm],
  ['mul', binaryWasm],
]);
