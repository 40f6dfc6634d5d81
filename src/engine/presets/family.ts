import { SpecError } from '../errors.ts';
import { closest } from '../graph/validate.ts';
import type { PresetFamily } from './types.ts';

/**
 * A family's parameters filled in from its defaults and checked: an unknown name, a value off the
 * family's list or under its bound is a SpecError naming the preset, the parameter and what fits.
 */
export function familyValues(family: Pick<PresetFamily, 'id' | 'parameters'>, given: Record<string, number> = {}): Record<string, number> {
  const known = family.parameters.map((p) => p.name);
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) {
      const hint = closest(name, known);
      throw new SpecError(`preset ${family.id}: no parameter "${name}"${hint ? `; did you mean "${hint}"?` : ''} (its parameters: ${known.join(', ')})`, undefined, name);
    }
  }
  const values: Record<string, number> = {};
  for (const p of family.parameters) {
    const v = given[p.name] ?? p.default;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SpecError(`preset ${family.id}: ${p.name} must be a number, got ${JSON.stringify(v)}`, undefined, p.name);
    if (p.choices && !p.choices.includes(v)) {
      throw new SpecError(`preset ${family.id}: ${p.name} ${v} is not one the architecture defines; use ${p.choices.join(', ')}`, undefined, p.name);
    }
    if (p.min !== undefined && (p.exclusiveMin ? v <= p.min : v < p.min)) {
      throw new SpecError(`preset ${family.id}: ${p.name} must be ${p.exclusiveMin ? '>' : '>='} ${p.min}, got ${v}`, undefined, p.name);
    }
    values[p.name] = v;
  }
  return values;
}
