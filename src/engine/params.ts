import { SpecError } from './errors.ts';
import type { ParamValue } from '../shared/spec.ts';

export type Pair = [number, number];
/** Padding resolved to [top, left, bottom, right]. */
export type Pads = [number, number, number, number];

/**
 * Reads and validates one layer's (or one expanded op's) parameters. Every failure names the
 * layer, the parameter and what would be valid; unknown parameter names are refused too, since a
 * typo like "kernal" silently falling back to a default is the worst kind of wrong count.
 */
export class ParamReader {
  private readonly used = new Set<string>();

  constructor(
    /** The id shown in messages: the layer id, or `<layer>/<name>` inside a block. */
    readonly where: string,
    /** The id of the layer the user placed (for SpecError.layer). */
    readonly layer: string,
    readonly what: string,
    private readonly params: Record<string, ParamValue | undefined>,
  ) {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new SpecError(`layer "${where}": "params" must be an object`, layer, 'params');
    }
  }

  fail(param: string, reason: string): never {
    throw new SpecError(`layer "${this.where}": ${param} ${reason}`, this.layer, param);
  }

  error(reason: string, param?: string): never {
    throw new SpecError(`layer "${this.where}": ${reason}`, this.layer, param);
  }

  has(name: string): boolean {
    return this.params[name] !== undefined && this.params[name] !== null;
  }

  raw(name: string): ParamValue | undefined {
    this.used.add(name);
    const v = this.params[name];
    return v === null ? undefined : v;
  }

  int(name: string, opts: { default?: number; min?: number; max?: number } = {}): number {
    const v = this.raw(name);
    if (v === undefined) {
      if (opts.default === undefined) this.fail(name, `is required (${this.what} needs an integer ${name})`);
      return opts.default;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(name, `must be an integer, got ${JSON.stringify(v)}`);
    this.checkRange(name, v, opts.min, opts.max);
    return v;
  }

  number(name: string, opts: { default?: number; min?: number; max?: number; exclusiveMin?: number } = {}): number {
    const v = this.raw(name);
    if (v === undefined) {
      if (opts.default === undefined) this.fail(name, `is required (${this.what} needs a number ${name})`);
      return opts.default;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(name, `must be a finite number, got ${JSON.stringify(v)}`);
    if (opts.exclusiveMin !== undefined && !(v > opts.exclusiveMin)) this.fail(name, `must be > ${opts.exclusiveMin}, got ${v}`);
    this.checkRange(name, v, opts.min, opts.max);
    return v;
  }

  bool(name: string, dflt: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(name, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], dflt: T): T {
    const v = this.raw(name);
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || !choices.includes(v as T)) {
      this.fail(name, `must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /**
   * A list of integers (a bare integer reads as a list of one). `length` fixes how many; each
   * element checked against min / max. Undefined when absent and no default is given.
   */
  intList(name: string, opts: { default?: number[]; length?: number; min?: number; max?: number } = {}): number[] | undefined {
    return this.list(name, true, opts);
  }

  /** A list of finite numbers (a bare number reads as a list of one); as intList otherwise. */
  numberList(name: string, opts: { default?: number[]; length?: number; min?: number; exclusiveMin?: number } = {}): number[] | undefined {
    const v = this.list(name, false, opts);
    if (v && opts.exclusiveMin !== undefined && v.some((x) => !(x > opts.exclusiveMin!))) this.fail(name, `must all be > ${opts.exclusiveMin}, got ${JSON.stringify(v)}`);
    return v;
  }

  private list(name: string, integers: boolean, opts: { default?: number[]; length?: number; min?: number; max?: number }): number[] | undefined {
    const v = this.raw(name);
    if (v === undefined) return opts.default === undefined ? undefined : [...opts.default];
    const kind = integers ? 'integers' : 'numbers';
    const ok = (x: unknown) => typeof x === 'number' && (integers ? Number.isInteger(x) : Number.isFinite(x));
    const list = typeof v === 'number' ? [v] : Array.isArray(v) ? v : undefined;
    if (!list || !list.every(ok)) this.fail(name, `must be a list of ${kind}, got ${JSON.stringify(v)}`);
    if (opts.length !== undefined && list.length !== opts.length) this.fail(name, `must have ${opts.length} ${kind}, got ${list.length} (${JSON.stringify(v)})`);
    for (const x of list) this.checkRange(name, x, opts.min, opts.max);
    return [...list];
  }

  /** An int or [a, b]; each element checked against min. */
  pair(name: string, opts: { default?: Pair; min?: number } = {}): Pair {
    const v = this.raw(name);
    if (v === undefined) {
      if (opts.default === undefined) this.fail(name, `is required (an integer or [h, w])`);
      return [...opts.default] as Pair;
    }
    let p: Pair;
    if (typeof v === 'number' && Number.isInteger(v)) p = [v, v];
    else if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) p = [v[0], v[1]];
    else this.fail(name, `must be an integer or a pair [h, w] of integers, got ${JSON.stringify(v)}`);
    if (opts.min !== undefined) for (const x of p) this.checkRange(name, x, opts.min, undefined);
    return p;
  }

  /**
   * int | [ph, pw] | [top, left, bottom, right] | "same". "same" pads so that the output is
   * ceil(input / stride), extra padding going to the bottom/right (ONNX SAME_UPPER, TF "SAME").
   */
  padding(name: string, input: Pair, kernel: Pair, stride: Pair, dilation: Pair, dflt: Pads = [0, 0, 0, 0]): Pads {
    const v = this.raw(name);
    if (v === undefined) return [...dflt] as Pads;
    if (v === 'same') {
      const total = [0, 1].map((i) => {
        const out = Math.ceil(input[i] / stride[i]);
        return Math.max((out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - input[i], 0);
      });
      return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
    }
    let p: Pads;
    if (typeof v === 'number' && Number.isInteger(v)) p = [v, v, v, v];
    else if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) p = [v[0], v[1], v[0], v[1]];
    else if (Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x))) p = [v[0], v[1], v[2], v[3]];
    else this.fail(name, `must be an integer, [ph, pw], [top, left, bottom, right] or "same", got ${JSON.stringify(v)}`);
    for (const x of p) if (x < 0) this.fail(name, `must not be negative, got ${JSON.stringify(v)}`);
    return p;
  }

  /** Refuses parameters the op does not know, listing the ones it does. */
  done(): void {
    const unknown = Object.keys(this.params).filter((k) => !this.used.has(k));
    if (unknown.length > 0) {
      const known = [...this.used].sort().join(', ') || '(none)';
      this.fail(unknown[0], `is not a parameter of ${this.what} (it takes: ${known})`);
    }
  }

  private checkRange(name: string, v: number, min?: number, max?: number): void {
    if (min !== undefined && v < min) this.fail(name, `must be >= ${min}, got ${v}`);
    if (max !== undefined && v > max) this.fail(name, `must be <= ${max}, got ${v}`);
  }
}
