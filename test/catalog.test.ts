/** The palette's table (engine/catalog.ts) against the registries it describes. */
import { describe, expect, it } from 'vitest';
import { BLOCKS } from '../src/engine/blocks/registry.ts';
import { blockDoc, catalogEntries, opDoc, suggestParams, tryResolve, type CatalogDoc } from '../src/engine/catalog.ts';
import { SpecError } from '../src/engine/errors.ts';
import { OPS } from '../src/engine/ops/registry.ts';
import { catalogSchema, PALETTE_GROUPS } from '../src/shared/protocol.ts';
import type { ParamValue } from '../src/shared/spec.ts';

/** The parameters an op or block reads, from ParamReader's refusal of an unknown one. */
function paramsRead(kind: 'op' | 'block', name: string, doc: CatalogDoc): string[] {
  try {
    tryResolve(kind, name, { ...doc.example.params, zz_probe: 1 }, doc.example.inputs);
  } catch (err) {
    const m = /it takes: ([^)]*)\)/.exec((err as Error).message);
    if (err instanceof SpecError && m) return m[1] === '(none' || m[1] === '' ? [] : m[1].split(', ');
    throw err;
  }
  throw new Error(`${name} accepted the unknown parameter zz_probe`);
}

/** A default written as a literal value ("1", "true", "[1536, 2048]", "1e-5"), else undefined ("= kernel", "auto"). */
function literalDefault(text: string | null): ParamValue | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as ParamValue;
  } catch {
    return /^[a-z0-9_]+$/.test(text) && !['auto'].includes(text) ? text : undefined;
  }
}

function typeAccepts(type: string, v: ParamValue): boolean {
  switch (type) {
    case 'int':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'pair':
      return Number.isInteger(v) || (Array.isArray(v) && v.length === 2);
    case 'padding':
      return Number.isInteger(v) || Array.isArray(v) || v === 'same';
    case 'enum':
      return typeof v === 'string';
    case 'int_list':
      return Array.isArray(v);
    default:
      return false;
  }
}

const all: ['op' | 'block', string, CatalogDoc | undefined][] = [
  ...[...OPS.keys()].map((n): ['op', string, CatalogDoc | undefined] => ['op', n, opDoc(n)]),
  ...[...BLOCKS.keys()].map((n): ['block', string, CatalogDoc | undefined] => ['block', n, blockDoc(n)]),
];

describe('catalog', () => {
  it.each(all)('%s %s has a doc whose example resolves and whose params are exactly the ones it reads', (kind, name, doc) => {
    expect(doc, `${kind} ${name} is registered but has no entry in src/engine/catalog.ts`).toBeDefined();
    tryResolve(kind, name, doc!.example.params, doc!.example.inputs);
    const listed = doc!.params.map((p) => p.name).sort();
    expect(listed).toEqual(paramsRead(kind, name, doc!).sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it.each(all)('%s %s: every example value and literal default has the listed type and is accepted', (kind, name, doc) => {
    for (const p of doc!.params) {
      const example = doc!.example.params[p.name];
      if (example !== undefined) expect(typeAccepts(p.type, example), `${name}.${p.name} example ${JSON.stringify(example)} is not a ${p.type}`).toBe(true);
      if (p.type === 'enum') expect(p.choices?.length).toBeGreaterThan(0);
      const dflt = literalDefault(p.default);
      if (dflt === undefined) continue;
      expect(typeAccepts(p.type, dflt), `${name}.${p.name} default ${p.default} is not a ${p.type}`).toBe(true);
      const params = { ...doc!.example.params, [p.name]: dflt };
      // A default that conflicts with another example value (stride 1 with downsample true) is still a valid value.
      try {
        tryResolve(kind, name, params, doc!.example.inputs);
      } catch (err) {
        expect((err as SpecError).param, `${name}.${p.name}=${p.default}: ${(err as Error).message}`).not.toBe(p.name);
      }
    }
  });

  it('lists every op and block once, in palette groups, valid against the protocol schema', () => {
    const { ops, blocks } = catalogEntries();
    expect(ops.map((o) => o.name)).toEqual([...OPS.keys()]);
    expect(blocks.map((b) => b.name)).toEqual([...BLOCKS.keys()]);
    expect(catalogSchema.parse({ ops, blocks, presets: [] })).toBeTruthy();
    for (const e of [...ops, ...blocks]) {
      expect(PALETTE_GROUPS).toContain(e.group);
      expect(e.summary.length).toBeGreaterThan(20);
    }
    expect(ops.find((o) => o.name === 'concat')!.arity).toEqual([2, null]);
    expect(ops.find((o) => o.name === 'linear')!.group).toBe('convolution');
    expect(ops.find((o) => o.name === 'batch_norm')!.group).toBe('activation');
  });

  it('suggests parameters that fit the input', () => {
    const unit = suggestParams('block', 'shufflenet_unit', [[1, 240, 28, 28]]);
    expect(unit).toEqual({ params: { out_channels: 240, groups: 3, stride: 1 }, fits: true });
    // 200 channels: 3 does not divide them, so the next candidate that fits is used.
    const odd = suggestParams('block', 'shufflenet_unit', [[1, 200, 28, 28]]);
    expect(odd.fits).toBe(true);
    expect(odd.params.groups).toBe(2);
    expect(suggestParams('block', 'se', [[1, 240, 28, 28]])).toEqual({ params: { reduction: 16 }, fits: true });
    expect(suggestParams('op', 'conv2d', [[1, 3, 32, 32]]).params).toEqual({ out_channels: 3, kernel: 3, padding: 1 });
    // Nothing fits a 2-D input: the first candidate comes back, marked as not fitting.
    expect(suggestParams('block', 'se', [[1, 10]]).fits).toBe(false);
    expect(() => suggestParams('op', 'nope', [[1, 3, 8, 8]])).toThrow(SpecError);
  });
});
