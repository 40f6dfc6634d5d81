import { binaryOp } from '../add/binary.ts';
import { binaryWgsl } from '../add/wgsl.ts';

/** Element-wise difference with NumPy / ONNX broadcasting: input normalisation (x - mean). */
export const sub = { ...binaryOp('sub', 'x - y with broadcasting (x - mean): 1 FLOP per output element, no params unless an operand is a constant.'), webgpu: binaryWgsl };
