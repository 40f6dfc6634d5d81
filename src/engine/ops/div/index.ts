import { binaryOp } from '../add/binary.ts';
import { binaryWgsl } from '../add/wgsl.ts';

/** Element-wise quotient with NumPy / ONNX broadcasting: input normalisation (x / std). */
export const div = { ...binaryOp('div', 'x / y with broadcasting (x / std): 1 FLOP per output element, no params unless an operand is a constant.'), webgpu: binaryWgsl };
