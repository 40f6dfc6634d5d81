import { binaryOp } from '../add/binary.ts';
import { binaryWgsl } from '../add/wgsl.ts';

/** Element-wise product with NumPy / ONNX broadcasting: SE scales [N, C, H, W] by [N, C, 1, 1]. */
export const mul = { ...binaryOp('mul', 'x * y with broadcasting (SE channel scaling): 1 FLOP per output element, no params.'), webgpu: binaryWgsl };
