import { binaryOp } from './binary.ts';
import { binaryWgsl } from './wgsl.ts';

/** Element-wise sum with NumPy / ONNX broadcasting: residual shortcuts, ShuffleNet's stride-1 join. */
export const add = { ...binaryOp('add', 'x + y with broadcasting (residual joins): 1 FLOP per output element, no params.'), webgpu: binaryWgsl };
