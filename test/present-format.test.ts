/** The one set of number formats (src/shared/present/format.ts) the workbench, the reports and the CLI print with. */
import { describe, expect, it } from 'vitest';
import { byteScale, bytes, delta, exact, gbps, gflops, ms, msUnit, num3, percent, ratio, shape, shapeX, si, siUnit, siWord } from '../src/shared/present/format.ts';

describe('counts', () => {
  it('three significant figures with a decimal SI prefix', () => {
    expect(si(137_460_672)).toBe('137 M');
    expect(si(7455)).toBe('7.46 K');
    expect(si(25_557_032)).toBe('25.6 M');
    expect(si(4_089_184_256)).toBe('4.09 G');
    expect(si(1_500_000_000_000)).toBe('1.5 T');
    expect(si(999)).toBe('999');
    expect(si(0)).toBe('0');
    expect(si(-2500)).toBe('-2.5 K');
    expect(si(0.5)).toBe('0.5');
  });
  it('rounds across a prefix boundary to the larger prefix', () => {
    expect(si(999_999)).toBe('1 M');
    expect(si(999_499)).toBe('999 K');
    expect(siUnit(999_999, 'FLOPs')).toBe('1 MFLOPs');
  });
  it('units glue to the prefix, words stand apart', () => {
    expect(siUnit(4_089_184_256, 'MACs')).toBe('4.09 GMACs');
    expect(siUnit(512, 'FLOPs')).toBe('512 FLOPs');
    expect(siWord(25_557_032, 'params')).toBe('25.6 M params');
    expect(siWord(64, 'params')).toBe('64 params');
  });
  it('exact integers with separators; missing values are a dash everywhere', () => {
    expect(exact(4_089_184_256)).toBe('4,089,184,256');
    for (const f of [si, exact, bytes, ms, msUnit, num3, gflops, gbps, percent]) {
      expect(f(null)).toBe('—');
      expect(f(undefined)).toBe('—');
    }
    expect(si(Number.NaN)).toBe('—');
    expect(siUnit(null, 'MACs')).toBe('—');
  });
});

describe('bytes', () => {
  it('binary units, three significant figures', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1023)).toBe('1023 B');
    expect(bytes(1024)).toBe('1.00 KiB');
    expect(bytes(2_400_000)).toBe('2.29 MiB');
    expect(bytes(102_760_448)).toBe('98.0 MiB');
    expect(bytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(bytes(1.25 * 1024 ** 3)).toBe('1.25 GiB');
    expect(bytes(5 * 1024 ** 4)).toBe('5.00 TiB');
  });
  it('picks the unit a value reads best in', () => {
    expect(byteScale(500)).toEqual({ unit: 'B', scale: 1 });
    expect(byteScale(3 * 1024 * 1024)).toEqual({ unit: 'MiB', scale: 1024 ** 2 });
  });
});

describe('times, rates and ratios', () => {
  it('milliseconds with decimals that suit the magnitude', () => {
    expect(ms(0.01234)).toBe('0.012');
    expect(ms(49.813)).toBe('49.81');
    expect(ms(123.456)).toBe('123.5');
    expect(msUnit(2)).toBe('2.00 ms');
  });
  it('rates to three significant figures, no exponent in the usual range', () => {
    expect(num3(1234.5)).toBe('1235');
    expect(num3(12.345)).toBe('12.3');
    expect(num3(0.012345)).toBe('0.0123');
    expect(num3(2)).toBe('2');
    expect(num3(0)).toBe('0');
    expect(num3(0.00001234)).toBe('1.23e-5');
    expect(gflops(87.654)).toBe('87.7 GFLOP/s');
    expect(gbps(19.2)).toBe('19.2 GB/s');
  });
  it('percentages, ratios and signed deltas', () => {
    expect(percent(0.1234)).toBe('12.3%');
    expect(percent(0.0042)).toBe('0.42%');
    expect(ratio(50, 100)).toBe('0.50x');
    expect(ratio(250, 10)).toBe('25.0x');
    expect(ratio(1, 0)).toBe('—');
    expect(ratio(null, 1)).toBe('—');
    expect(delta(1_200_000, si)).toBe('+1.2 M');
    expect(delta(-340, bytes)).toBe('−340 B');
    expect(delta(0, si)).toBe('±0');
  });
  it('shapes', () => {
    expect(shape([1, 2])).toBe('[1, 2]');
    expect(shape(null)).toBe('—');
    expect(shapeX([1, 64, 56, 56])).toBe('1x64x56x56');
  });
});
