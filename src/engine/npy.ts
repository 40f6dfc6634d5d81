import { SpecError } from './errors.ts';
import { numel } from './tensor.ts';

/**
 * NumPy .npy (format 1.0/2.0/3.0), enough to exchange tensors with numpy and PyTorch users:
 * reads little-endian float32 and float64 (converted to float32), C order; writes float32.
 */
export function readNpy(bytes: Uint8Array, what = 'input'): { shape: number[]; data: Float32Array } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 8 || !magic.every((b, i) => bytes[i] === b)) throw new SpecError(`${what}: not a .npy file (bad magic)`, undefined, what);
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) throw new SpecError(`${what}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`, undefined, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new SpecError(`${what}: .npy is truncated (no header length)`, undefined, what);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (bytes.length < start) throw new SpecError(`${what}: .npy is truncated (the header says ${headerLen} bytes, the file ends before)`, undefined, what);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new SpecError(`${what}: unreadable .npy header ${header.trim()}`, undefined, what);
  if (fortran === 'True') throw new SpecError(`${what}: Fortran-order arrays are not supported; save with np.ascontiguousarray`, undefined, what);
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!dims.every((d) => /^\d+L?$/.test(d))) throw new SpecError(`${what}: unreadable .npy shape (${shapeText})`, undefined, what);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  const n = numel(shape);
  const body = bytes.subarray(start);
  let data: Float32Array;
  if (descr === '<f4') {
    if (body.length < n * 4) throw new SpecError(`${what}: .npy is truncated: shape ${shapeLabel(shape)} needs ${n * 4} data bytes, the file has ${body.length}`, undefined, what);
    data = new Float32Array(n);
    new Uint8Array(data.buffer).set(body.subarray(0, n * 4));
  } else if (descr === '<f8') {
    if (body.length < n * 8) throw new SpecError(`${what}: .npy is truncated: shape ${shapeLabel(shape)} needs ${n * 8} data bytes, the file has ${body.length}`, undefined, what);
    const f64 = new Float64Array(n);
    new Uint8Array(f64.buffer).set(body.subarray(0, n * 8));
    data = Float32Array.from(f64);
  } else {
    throw new SpecError(`${what}: .npy dtype ${descr} is not supported; use float32 (<f4) or float64 (<f8)`, undefined, what);
  }
  return { shape, data };
}

function shapeLabel(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

export function writeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  if (numel(shape) !== data.length) throw new Error(`writeNpy: shape ${shapeLabel(shape)} holds ${numel(shape)} values, the data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.length * 4), 10 + header.length);
  return out;
}
