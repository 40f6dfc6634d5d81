/** Number formatting shared by the text renderers (Markdown, HTML). */

const SI: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
];

function si(n: number): { num: string; prefix: string } {
  const a = Math.abs(n);
  for (const [scale, prefix] of SI) {
    // Compare the rounded value so 999,999 reads "1.00 M" rather than "1000.00 K".
    if (Number((a / scale).toFixed(2)) >= 1) return { num: (n / scale).toFixed(2), prefix };
  }
  return { num: Number.isInteger(n) ? String(n) : n.toFixed(2), prefix: '' };
}

/** A count with a unit glued to the prefix: `4.09 GMACs`, `512 FLOPs`. */
export function siUnit(n: number, unit: string): string {
  const { num, prefix } = si(n);
  return `${num} ${prefix}${unit}`;
}

/** A count followed by a word: `25.56 M params`, `64 params`. */
export function siWord(n: number, word: string): string {
  const { num, prefix } = si(n);
  return prefix ? `${num} ${prefix} ${word}` : `${num} ${word}`;
}

/** Bytes in binary units, as the engine's memory messages use them. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** Milliseconds with precision that suits the magnitude (sub-ms layers are common). */
export function ms(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

/** Exact integer with thousands separators, for counts a person checks against a paper. */
export function exact(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1x64x56x56` */
export function shapeX(shape: readonly number[]): string {
  return shape.join('x');
}

/** A decimal with a few significant digits, without trailing noise (`12.3457`, `0.000123`). */
export function sig(n: number, digits = 6): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(digits)));
}
