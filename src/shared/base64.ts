/**
 * Base64 for binary payloads on transports that carry only JSON text (the `serve` WebSocket and
 * the engine child's IPC channel). Plain TypeScript, so the renderer, the engine Worker and Node
 * share it; `btoa` over a 100 MB string of char codes would need that string first.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** Characters are produced in slices so no argument list or intermediate array grows with the input. */
const SLICE = 3 * 16384;

export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let start = 0; start < bytes.length; start += SLICE) {
    const end = Math.min(start + SLICE, bytes.length);
    const codes = new Uint16Array(Math.ceil((end - start) / 3) * 4);
    let o = 0;
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i];
      const b1 = i + 1 < end ? bytes[i + 1] : 0;
      const b2 = i + 2 < end ? bytes[i + 2] : 0;
      codes[o++] = ALPHABET.charCodeAt(b0 >> 2);
      codes[o++] = ALPHABET.charCodeAt(((b0 & 3) << 4) | (b1 >> 4));
      codes[o++] = i + 1 < end ? ALPHABET.charCodeAt(((b1 & 15) << 2) | (b2 >> 6)) : 61; // '='
      codes[o++] = i + 2 < end ? ALPHABET.charCodeAt(b2 & 63) : 61;
    }
    parts.push(String.fromCharCode.apply(null, codes as unknown as number[]));
  }
  return parts.join('');
}

/** Throws on a character outside the alphabet or a length that is not a multiple of 4. */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Error(`not base64: the length ${text.length} is not a multiple of 4`);
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  const digit = (i: number): number => {
    const c = text.charCodeAt(i);
    if (c === 61 && i >= text.length - pad) return 0; // '=' padding
    const d = c < 128 ? LOOKUP[c] : -1;
    if (d < 0) throw new Error(`not base64: character ${JSON.stringify(text[i])} at ${i}`);
    return d;
  };
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n = (digit(i) << 18) | (digit(i + 1) << 12) | (digit(i + 2) << 6) | digit(i + 3);
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
