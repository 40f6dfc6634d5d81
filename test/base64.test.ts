import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../src/shared/base64.ts';

describe('base64 (binary payloads over JSON transports)', () => {
  it('matches Node for every length around the 3-byte groups and the slice boundary', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 3 * 16384 - 1, 3 * 16384, 3 * 16384 + 2, 200_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7919 + (i >> 3)) & 255);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(decodeBase64(text)).toEqual(bytes);
    }
  });

  it('refuses text that is not base64, naming the character', () => {
    expect(() => decodeBase64('abc')).toThrow(/multiple of 4/);
    expect(() => decodeBase64('ab$d')).toThrow(/character "\$" at 2/);
    expect(() => decodeBase64('a=bc')).toThrow(/character "=" at 1/);
  });
});
