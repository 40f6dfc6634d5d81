/** Number and shape formatting for the workbench (the same conventions as the engine's reports). */

const SI: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** `25.6 M`, `4.09 G`, `512`: three significant figures with an SI prefix. */
export function si(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  for (const [scale, prefix] of SI) {
    if (Number((a / scale).toPrecision(digits)) >= 1) return `${trim((n / scale).toPrecision(digits))} ${prefix}`;
  }
  return Number.isInteger(n) ? String(n) : trim(n.toPrecision(digits));
}

function trim(text: string): string {
  return text.includes('e') ? text : text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** Exact integer with thousands separators. */
export function exact(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}

/** Bytes in binary units. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

/** Milliseconds with precision that suits the magnitude. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function percent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(v >= 0.1 ? 1 : 2)}%`;
}

/** `[1, 64, 56, 56]` */
export function shape(s: readonly number[] | null | undefined): string {
  return s ? `[${s.join(', ')}]` : '—';
}

/** `2.31x` or `0.50x`: how many times the baseline. */
export function ratio(v: number | null | undefined, base: number | null | undefined): string {
  if (v === null || v === undefined || base === null || base === undefined || base === 0) return '—';
  const r = v / base;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}
