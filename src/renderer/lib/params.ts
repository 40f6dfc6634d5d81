/**
 * The inspector's text fields <-> spec parameter values. Text that does not parse is kept as the
 * string the user typed, so the engine refuses it with its own message on the right field rather
 * than the form silently dropping it.
 */
import type { ParamType } from '../../shared/protocol.ts';
import type { ParamValue } from '../../shared/spec.ts';

export function valueToText(v: ParamValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

function list(text: string): number[] | undefined {
  // "3x3" and "1 × 3 × 224 × 224" are lists too; an x anywhere else is not a separator.
  const inner = text
    .trim()
    .replace(/^\[(.*)\]$/s, '$1')
    .replace(/(\d)\s*[x×]\s*(?=\d)/g, '$1,')
    .trim();
  if (inner === '') return [];
  const parts = inner.split(/[\s,]+/).filter((p) => p !== '');
  if (!parts.every((p) => NUMBER.test(p))) return undefined;
  return parts.map(Number);
}

/** The value for `text` typed into a field of `type`; undefined (use the default) when empty. */
export function textToValue(type: ParamType, text: string): ParamValue | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  switch (type) {
    case 'int':
    case 'number':
      return NUMBER.test(t) ? Number(t) : t;
    case 'bool':
      return t === 'true' ? true : t === 'false' ? false : t;
    case 'enum':
      return t;
    case 'pair': {
      const l = list(t);
      if (l && l.length === 1) return l[0];
      if (l && l.length === 2) return l;
      return t;
    }
    case 'padding': {
      if (t.toLowerCase() === 'same') return 'same';
      const l = list(t);
      if (l && l.length === 1) return l[0];
      if (l && (l.length === 2 || l.length === 4)) return l;
      return t;
    }
    case 'int_list': {
      const l = list(t);
      return l ?? t;
    }
  }
}

/** `[N, C, H, W]` typed as "1, 3, 224, 224" (or "1x3x224x224"); undefined when it is not four positive integers. */
export function parseShape(text: string): number[] | undefined {
  const l = list(text);
  if (!l || l.length !== 4 || !l.every((d) => Number.isInteger(d) && d > 0)) return undefined;
  return l;
}
