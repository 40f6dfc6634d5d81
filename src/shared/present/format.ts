/**
 * How numbers read wherever Convscope shows them: the workbench, the HTML and Markdown reports
 * and the CLI. One set of rules, so a figure a user reads in the terminal is spelled the same in
 * the report and the window:
 * - counts (params, MACs, FLOPs): three significant figures with a decimal SI prefix (`25.6 M`,
 *   `4.09 GMACs`); exact integers with thousands separators where a person checks them (`exact`);
 * - bytes: binary units (KiB, MiB, GiB), never kB/MB;
 * - times: milliseconds, with decimals that suit the magnitude;
 * - rates (GFLOP/s, GB/s) and intensities (FLOP/byte): three significant figures.
 * Pure functions, no DOM or Node: src/shared is imported by the renderer, the engine and the CLI.
 */

const SI: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
];

const missing = (n: number | null | undefined): n is null | undefined => n === null || n === undefined || !Number.isFinite(n);

/** Drops trailing zeros of a fixed-point text (`1.50` -> `1.5`, `2.00` -> `2`); leaves exponents alone. */
function trim(text: string): string {
  return text.includes('e') || !text.includes('.') ? text : text.replace(/0+$/, '').replace(/\.$/, '');
}

/** A count split into its scaled number (three significant figures) and SI prefix. */
export function siParts(n: number, digits = 3): { num: string; prefix: string } {
  const a = Math.abs(n);
  for (const [scale, prefix] of SI) {
    // Compare the rounded value so 999,999 reads "1 M" rather than "1000 K".
    if (Number((a / scale).toPrecision(digits)) >= 1) return { num: trim((n / scale).toPrecision(digits)), prefix };
  }
  return { num: Number.isInteger(n) ? String(n) : trim(n.toPrecision(digits)), prefix: '' };
}

/** `25.6 M`, `4.09 G`, `512`: three significant figures with an SI prefix; `—` when missing. */
export function si(n: number | null | undefined, digits = 3): string {
  if (missing(n)) return '—';
  const { num, prefix } = siParts(n, digits);
  return prefix ? `${num} ${prefix}` : num;
}

/** A count with a unit glued to the prefix: `4.09 GMACs`, `512 FLOPs`. */
export function siUnit(n: number | null | undefined, unit: string): string {
  if (missing(n)) return '—';
  const { num, prefix } = siParts(n);
  return `${num} ${prefix}${unit}`;
}

/** A count followed by a word: `25.6 M params`, `64 params`. */
export function siWord(n: number | null | undefined, word: string): string {
  if (missing(n)) return '—';
  const { num, prefix } = siParts(n);
  return prefix ? `${num} ${prefix} ${word}` : `${num} ${word}`;
}

/** Exact integer with thousands separators, for counts a person checks against a paper. */
export function exact(n: number | null | undefined): string {
  return missing(n) ? '—' : n.toLocaleString('en-US');
}

export const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** The binary unit a byte count reads best in, and its scale (1024^k). */
export function byteScale(n: number): { unit: (typeof BYTE_UNITS)[number]; scale: number } {
  let u = 0;
  let scale = 1;
  while (Math.abs(n) >= scale * 1024 && u < BYTE_UNITS.length - 1) {
    scale *= 1024;
    u++;
  }
  return { unit: BYTE_UNITS[u], scale };
}

/** Bytes in binary units, three significant figures: `512 B`, `2.29 MiB`, `98.0 MiB`, `1.25 GiB`. */
export function bytes(n: number | null | undefined): string {
  if (missing(n)) return '—';
  const { unit, scale } = byteScale(n);
  if (scale === 1) return `${n} B`;
  const v = n / scale;
  const a = Math.abs(v);
  return `${v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2)} ${unit}`;
}

/** Milliseconds (the number only) with precision that suits the magnitude: sub-ms layers are common. */
export function ms(v: number | null | undefined): string {
  if (missing(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

/** A time with its unit: `12.34 ms`. */
export function msUnit(v: number | null | undefined): string {
  return missing(v) ? '—' : `${ms(v)} ms`;
}

/**
 * A rate or ratio to three significant figures without an exponent or trailing zeros:
 * `1234`, `12.3`, `0.0123`. GFLOP/s, GB/s and FLOP/byte read this way everywhere.
 */
export function num3(v: number | null | undefined): string {
  if (missing(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a < 1e-4) return v.toExponential(2);
  return trim(v.toPrecision(3));
}

/** `12.3 GFLOP/s` */
export function gflops(v: number | null | undefined): string {
  return missing(v) ? '—' : `${num3(v)} GFLOP/s`;
}

/** `45.6 GB/s` (decimal gigabytes per second, as bandwidth is quoted). */
export function gbps(v: number | null | undefined): string {
  return missing(v) ? '—' : `${num3(v)} GB/s`;
}

/** A fraction as a percentage: `12.3%`, `0.42%`. */
export function percent(v: number | null | undefined): string {
  if (missing(v)) return '—';
  return `${(v * 100).toFixed(Math.abs(v) >= 0.1 ? 1 : 2)}%`;
}

/** `[1, 64, 56, 56]` */
export function shape(s: readonly number[] | null | undefined): string {
  return s ? `[${s.join(', ')}]` : '—';
}

/** `1x64x56x56`, the form the reports and the CLI print. */
export function shapeX(s: readonly number[]): string {
  return s.join('x');
}

/** `2.31x` or `0.50x`: how many times the baseline. */
export function ratio(v: number | null | undefined, base: number | null | undefined): string {
  if (missing(v) || missing(base) || base === 0) return '—';
  const r = v / base;
  return `${Math.abs(r) >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

/** A signed difference as its own formatter spells it: `+1.2 M`, `−340 B`, `±0`. */
export function delta(v: number | null | undefined, format: (n: number) => string): string {
  if (missing(v)) return '—';
  if (v === 0) return '±0';
  return `${v > 0 ? '+' : '−'}${format(Math.abs(v))}`;
}

/** A decimal with a few significant digits, for data files (CSV): no unit, no trailing noise. */
export function sig(n: number, digits = 6): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(digits)));
}
