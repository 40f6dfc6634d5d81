/**
 * The .npy reader and writer (`convscope run --input/--output`). Files are also built here byte by
 * byte from the format description (numpy.lib.format: magic "\x93NUMPY", major, minor, a
 * little-endian header length of 2 bytes in 1.0 or 4 bytes in 2.0/3.0, a Python-literal dict
 * header padded with spaces and ending in "\n" so that the data starts 64-byte aligned, then the
 * data), and, where python3 has numpy, checked against numpy itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../src/engine/errors.ts';
import { readNpy, writeNpy } from '../src/engine/npy.ts';

/** A .npy file assembled by hand: `header` is the dict text, padded here per the format. */
function handMade(header: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  let text = header;
  const unpadded = prefix + text.length + 1;
  text += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = new Uint8Array(prefix + text.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(head.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  head.set(Buffer.from(text, 'latin1'), prefix);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

function float64Bytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return bytes;
}

function float32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** The header dict as written, and where the data starts. */
function headerOf(file: Uint8Array): { text: string; dataStart: number } {
  const len = new DataView(file.buffer, file.byteOffset).getUint16(8, true);
  return { text: Buffer.from(file.subarray(10, 10 + len)).toString('latin1'), dataStart: 10 + len };
}

function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i * 0.37 + 1 / 3));
}

/** 20 dimensions of 1 and a last one of 17: 10 prefix bytes + a 117-byte dict + "\n" = 128, so no padding at all. */
const NO_PADDING_SHAPE = [...Array<number>(20).fill(1), 17];

describe('writeNpy / readNpy', () => {
  const shapes: number[][] = [[5], [1], [2, 3], [1, 3, 4, 4], [2, 0, 3], [], NO_PADDING_SHAPE];

  for (const shape of shapes) {
    it(`round-trips shape [${shape.join(', ')}]`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = ramp(n);
      const file = writeNpy(shape, data);
      const back = readNpy(file);
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(data.buffer))).toBe(true);

      const { text, dataStart } = headerOf(file);
      expect(file[6]).toBe(1); // format 1.0
      expect(dataStart % 64).toBe(0); // the data starts 64-byte aligned
      expect(file.length).toBe(dataStart + n * 4);
      expect(text.endsWith('\n')).toBe(true);
      const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`; // a 1-tuple needs its comma in Python
      expect(text).toMatch(new RegExp(`^\\{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple.replace(/[()]/g, '\\$&')}, \\} *\\n$`));
    });
  }

  it('the no-padding shape really is the edge case', () => {
    const { text } = headerOf(writeNpy(NO_PADDING_SHAPE, ramp(17)));
    expect(text.endsWith('}\n')).toBe(true); // not a single space of padding
    expect((10 + text.length) % 64).toBe(0);
    const { text: padded } = headerOf(writeNpy([...NO_PADDING_SHAPE.slice(0, -1), 117], ramp(117)));
    expect(padded.endsWith(' '.repeat(63) + '\n')).toBe(true); // one character more: a whole line of padding
  });

  it('reads from a Buffer that is a slice of a bigger allocation (as readFileSync can return)', () => {
    const file = writeNpy([2, 2], Float32Array.from([1, 2, 3, 4]));
    const pool = Buffer.alloc(file.length + 13);
    pool.set(file, 13);
    expect(readNpy(pool.subarray(13)).data).toEqual(Float32Array.from([1, 2, 3, 4]));
  });

  it('refuses data that does not fill the shape', () => {
    expect(() => writeNpy([2, 3], new Float32Array(5))).toThrow(/holds 6 values, the data has 5/);
  });
});

describe('readNpy of files written elsewhere', () => {
  it('converts a float64 file to float32', () => {
    const values = [0.1, -2.5, 1 / 3, 1e-8, 123456.789, -0];
    const file = handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", float64Bytes(values));
    const { shape, data } = readNpy(file);
    expect(shape).toEqual([2, 3]);
    expect(data).toBeInstanceOf(Float32Array);
    expect([...data]).toEqual(values.map(Math.fround));
  });

  it('reads format 2.0 (4-byte header length) and 3.0 (UTF-8 header), and the spacing numpy may use', () => {
    const v2 = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", float32Bytes([1, 2, 3]), 2);
    expect(readNpy(v2)).toEqual({ shape: [3], data: Float32Array.from([1, 2, 3]) });
    const v3 = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", float32Bytes([4, 5]), 3);
    expect(readNpy(v3)).toEqual({ shape: [1, 2], data: Float32Array.from([4, 5]) });
    // Key order is not fixed by the format, and older numpy wrote long ints as "2L".
    const reordered = handMade("{'shape': (2L,), 'fortran_order': False, 'descr': '<f4'}", float32Bytes([6, 7]));
    expect(readNpy(reordered)).toEqual({ shape: [2], data: Float32Array.from([6, 7]) });
  });

  describe('gives a SpecError that says what is wrong', () => {
    const good = writeNpy([2, 2], Float32Array.from([1, 2, 3, 4]));
    const cases: [string, Uint8Array, RegExp][] = [
      ['bad magic', new TextEncoder().encode('this is not numpy data at all'), /x\.npy: not a \.npy file \(bad magic\)/],
      ['too short for a magic', Uint8Array.from([0x93, 0x4e, 0x55]), /bad magic/],
      ['Fortran order', handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", float32Bytes([1, 2, 3, 4])), /Fortran-order arrays are not supported; save with np\.ascontiguousarray/],
      ['int32 dtype', handMade("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(16)), /dtype <i4 is not supported; use float32 \(<f4\) or float64 \(<f8\)/],
      ['big-endian float32', handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(16)), /dtype >f4 is not supported/],
      ['float16', handMade("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(8)), /dtype <f2 is not supported/],
      ['truncated data', good.subarray(0, good.length - 4), /truncated: shape \(2, 2\) needs 16 data bytes, the file has 12/],
      ['truncated float64 data', handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", float64Bytes([1, 2])), /truncated: shape \(3,\) needs 24 data bytes, the file has 16/],
      ['truncated header', good.subarray(0, 40), /truncated \(the header says \d+ bytes/],
      ['no header length', good.subarray(0, 9), /truncated \(no header length\)/],
      ['unknown format version', Uint8Array.from([...good.subarray(0, 6), 9, 0, ...good.subarray(8)]), /format version 9\.0 is not supported/],
      ['header without a shape', handMade("{'descr': '<f4', 'fortran_order': False}", new Uint8Array(4)), /unreadable \.npy header/],
      ['a shape that is not integers', handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'x'), }", new Uint8Array(8)), /unreadable \.npy shape/],
    ];
    for (const [name, bytes, message] of cases) {
      it(name, () => {
        let error: unknown;
        try {
          readNpy(bytes, 'x.npy');
        } catch (err) {
          error = err;
        }
        expect(error, 'readNpy should throw').toBeInstanceOf(SpecError);
        expect((error as SpecError).message).toMatch(message);
        expect((error as SpecError).message.startsWith('x.npy: ')).toBe(true);
        expect((error as SpecError).message).not.toContain('\n');
      });
    }
  });
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const hasNumpy = numpy.status === 0;

describe('against numpy', () => {
  it.skipIf(!hasNumpy)(`numpy reads what writeNpy writes, and readNpy reads what numpy writes${hasNumpy ? '' : ' — SKIPPED: numpy is not installed for python3'}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'convscope-npy-'));
    try {
      const ours: Record<string, { shape: number[]; data: Float32Array }> = {
        a: { shape: [2, 3, 4], data: ramp(24) },
        one: { shape: [5], data: ramp(5) },
        pad0: { shape: NO_PADDING_SHAPE, data: ramp(17) },
        nchw: { shape: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i) * 1e3) },
      };
      for (const [name, a] of Object.entries(ours)) writeFileSync(join(dir, `${name}.npy`), writeNpy(a.shape, a.data));
      const script = String.raw`
import json, sys, os
import numpy as np
d = sys.argv[1]
out = {}
for name in ${JSON.stringify(Object.keys(ours))}:
    a = np.load(os.path.join(d, name + '.npy'), allow_pickle=False)
    out[name] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'fortran': bool(np.isfortran(a)) and a.ndim > 1, 'values': a.astype(np.float64).ravel().tolist()}
f4 = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) / np.float32(7)).astype('<f4')
np.save(os.path.join(d, 'np_f4.npy'), f4)
f8 = np.linspace(-1, 1, 10).reshape(2, 5) / 3
np.save(os.path.join(d, 'np_f8.npy'), f8)
with open(os.path.join(d, 'np_v2.npy'), 'wb') as fh:
    np.lib.format.write_array(fh, f4[0], version=(2, 0))
np.save(os.path.join(d, 'np_1d.npy'), np.array([1.5, -2.25, 3], dtype=np.float32))
np.save(os.path.join(d, 'np_fortran.npy'), np.asfortranarray(f4[0]))
np.save(os.path.join(d, 'np_i4.npy'), np.arange(4, dtype=np.int32))
out['np'] = {'f4': f4.astype(np.float64).ravel().tolist(), 'f8': f8.ravel().tolist(), 'v2': f4[0].astype(np.float64).ravel().tolist()}
print(json.dumps(out))
`;
      const py = spawnSync('python3', ['-c', script, dir], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);
      const got = JSON.parse(py.stdout) as Record<string, { dtype: string; shape: number[]; fortran: boolean; values: number[] }> & {
        np: { f4: number[]; f8: number[]; v2: number[] };
      };

      for (const [name, a] of Object.entries(ours)) {
        expect({ name, dtype: got[name].dtype, shape: got[name].shape, fortran: got[name].fortran }).toEqual({ name, dtype: '<f4', shape: a.shape, fortran: false });
        expect(got[name].values, name).toEqual([...a.data]); // float32 -> float64 is exact, and so is JSON's shortest repr
      }

      const f4 = readNpy(readFileSync(join(dir, 'np_f4.npy')));
      expect(f4.shape).toEqual([2, 3, 4]);
      expect([...f4.data]).toEqual(got.np.f4);
      const f8 = readNpy(readFileSync(join(dir, 'np_f8.npy')));
      expect(f8.shape).toEqual([2, 5]);
      expect([...f8.data]).toEqual(got.np.f8.map(Math.fround));
      const v2 = readNpy(readFileSync(join(dir, 'np_v2.npy')));
      expect(readFileSync(join(dir, 'np_v2.npy'))[6]).toBe(2);
      expect(v2.shape).toEqual([3, 4]);
      expect([...v2.data]).toEqual(got.np.v2);
      expect(readNpy(readFileSync(join(dir, 'np_1d.npy')))).toEqual({ shape: [3], data: Float32Array.from([1.5, -2.25, 3]) });
      expect(() => readNpy(readFileSync(join(dir, 'np_fortran.npy')))).toThrow(/Fortran-order/);
      expect(() => readNpy(readFileSync(join(dir, 'np_i4.npy')))).toThrow(/dtype <i4 is not supported/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
