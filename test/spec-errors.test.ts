/**
 * Malformed specs: each is refused by buildPlan before any tensor exists, with a message that
 * names the layer and the parameter, and makes the CLI exit with status 2.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecError } from '../src/engine/errors.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { main } from '../src/cli/main.ts';

const base = (layers: unknown[], shape = [1, 16, 8, 8]) => ({ format: 'convscope/v1', name: 'bad', input: { shape }, layers });

interface Bad {
  name: string;
  spec: unknown;
  /** Substrings the message must contain: the layer and the parameter, at least. */
  expect: string[];
  /** The CLI command that refuses it: `inspect` unless only running it is refused. */
  command?: string;
}

const cases: Bad[] = [
  { name: 'wrong format', spec: { ...base([{ id: 'a', op: 'relu' }]), format: 'convscope/v9' }, expect: ['format', 'convscope/v1'] },
  { name: '3-D input shape', spec: base([{ id: 'a', op: 'relu' }], [1, 3, 224]), expect: ['input.shape', '[N, C, H, W]'] },
  { name: 'no layers', spec: base([]), expect: ['layers'] },
  { name: 'unknown op with a hint', spec: base([{ id: 'c1', op: 'conv2', params: {} }]), expect: ['layer "c1"', 'op "conv2" is unknown', 'conv2d'] },
  { name: 'block used as op', spec: base([{ id: 's', op: 'se' }]), expect: ['layer "s"', '"block": "se"'] },
  { name: 'unknown block', spec: base([{ id: 'b', block: 'inception_v9' }]), expect: ['layer "b"', 'block "inception_v9" is unknown'] },
  { name: 'both op and block', spec: base([{ id: 'x', op: 'relu', block: 'se' }]), expect: ['layer "x"', 'exactly one of "op"'] },
  { name: 'duplicate id', spec: base([{ id: 'a', op: 'relu' }, { id: 'a', op: 'relu' }]), expect: ['layer "a"', 'unique'] },
  { name: 'dangling input', spec: base([{ id: 'a', op: 'relu' }, { id: 'b', op: 'add', inputs: ['a', 'nope'] }]), expect: ['layer "b"', 'inputs', '"nope" is not a layer id'] },
  {
    name: 'cycle',
    spec: base([
      { id: 'a', op: 'relu', inputs: ['b'] },
      { id: 'b', op: 'relu', inputs: ['a'] },
    ]),
    expect: ['cycle', 'a -> b -> a'],
  },
  {
    name: 'out_channels not divisible by groups (the design example)',
    spec: base([{ id: 'u1', op: 'conv2d', params: { out_channels: 250, kernel: 1, groups: 3 } }], [1, 240, 28, 28]),
    expect: ['layer "u1": out_channels 250 is not divisible by groups 3'],
  },
  { name: 'groups not dividing in channels', spec: base([{ id: 'g', op: 'conv2d', params: { out_channels: 32, kernel: 3, groups: 3 } }]), expect: ['layer "g"', 'groups 3', '16 input channels'] },
  { name: 'zero kernel', spec: base([{ id: 'k', op: 'conv2d', params: { out_channels: 8, kernel: 0 } }]), expect: ['layer "k"', 'kernel must be >= 1'] },
  { name: 'negative padding', spec: base([{ id: 'p', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: -1 } }]), expect: ['layer "p"', 'padding must not be negative'] },
  { name: 'dilation empties the output', spec: base([{ id: 'd', op: 'conv2d', params: { out_channels: 8, kernel: 3, dilation: 5 } }]), expect: ['layer "d"', 'output height would be', 'dilation 5'] },
  { name: 'unknown parameter (typo)', spec: base([{ id: 't', op: 'conv2d', params: { out_channels: 8, kernal: 3, kernel: 3 } }]), expect: ['layer "t"', 'kernal is not a parameter of conv2d'] },
  { name: 'missing out_channels', spec: base([{ id: 'm', op: 'conv2d', params: { kernel: 3 } }]), expect: ['layer "m"', 'out_channels is required'] },
  { name: 'stride as a string', spec: base([{ id: 's', op: 'conv2d', params: { out_channels: 8, kernel: 3, stride: '2' } }]), expect: ['layer "s"', 'stride must be an integer'] },
  {
    name: 'add with a channel mismatch',
    spec: base([
      { id: 'a', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
      { id: 'b', op: 'conv2d', params: { out_channels: 4, kernel: 1 }, inputs: ['input'] },
      { id: 'j', op: 'add', inputs: ['a', 'b'] },
    ]),
    expect: ['layer "j"', '8', '4'],
  },
  {
    name: 'concat with different spatial sizes',
    spec: base([
      { id: 'a', op: 'conv2d', params: { out_channels: 8, kernel: 1, stride: 2 } },
      { id: 'cat', op: 'concat', inputs: ['a', 'input'] },
    ]),
    expect: ['layer "cat"'],
  },
  { name: 'linear on a feature map', spec: base([{ id: 'fc', op: 'linear', params: { out_features: 10 } }]), expect: ['layer "fc"', 'flatten'] },
  { name: 'channel shuffle groups', spec: base([{ id: 'sh', op: 'channel_shuffle', params: { groups: 3 } }]), expect: ['layer "sh"', 'groups'] },
  {
    name: 'memory budget',
    spec: base([{ id: 'big', op: 'conv2d', params: { out_channels: 4096, kernel: 3, padding: 1 } }], [64, 16, 1024, 1024]),
    expect: ['exceeds the memory budget', 'GiB', 'layer "big"', '--batch', '--memory-budget'],
    command: 'profile',
  },
  { name: 'reserved id', spec: base([{ id: 'input', op: 'relu' }]), expect: ['layer "input"', 'reserved'] },
  { name: 'misspelt field on a layer', spec: base([{ id: 'c', op: 'relu', param: {} }]), expect: ['layer "c"', 'unknown field', 'param'] },
  { name: 'negative seed', spec: { ...base([{ id: 'a', op: 'relu' }]), seed: -1 }, expect: ['seed'] },
  { name: 'shufflenet unit with mismatched residual', spec: base([{ id: 'u1', block: 'shufflenet_unit', params: { out_channels: 240, groups: 3, stride: 1 } }], [1, 24, 28, 28]), expect: ['layer "u1"'] },
  { name: 'pool padding larger than half the kernel', spec: base([{ id: 'mp', op: 'max_pool2d', params: { kernel: 2, padding: 2 } }]), expect: ['layer "mp"', 'padding'] },
];

describe('malformed specs are refused with the layer and parameter named', () => {
  it('has at least twenty cases', () => expect(cases.length).toBeGreaterThanOrEqual(20));
  for (const c of cases) {
    it(c.name, () => {
      let error: unknown;
      try {
        buildPlan(c.spec);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(SpecError);
      for (const s of c.expect) expect((error as Error).message).toContain(s);
    });
  }
});

describe('the CLI exits 2 on each of them with the reason on stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convscope-bad-'));
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const file = join(dir, `bad-${i}.convscope.json`);
      writeFileSync(file, JSON.stringify(c.spec));
      const chunks: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stderr.write;
      let code: number;
      try {
        code = await main([c.command ?? 'inspect', file]);
      } finally {
        process.stderr.write = write;
      }
      expect(code).toBe(2);
      const stderr = chunks.join('');
      expect(stderr).toContain(c.expect[0]);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});

describe('the memory budget names where the memory goes', () => {
  // Input [1, 4, 64, 64]: 64 KiB. "wide" (1x1 to 64 channels) writes 1 MiB while the input is
  // still live: 1 MiB + 64 KiB, the peak; "narrow" then holds wide's 1 MiB and its own 64 KiB,
  // the same, so the peak stays at "wide". Weights: 4*64 + 64 + 64*4 + 4 = 580 floats.
  const model = base(
    [
      { id: 'wide', op: 'conv2d', params: { out_channels: 64, kernel: 1 } },
      { id: 'narrow', op: 'conv2d', params: { out_channels: 4, kernel: 1 } },
    ],
    [1, 4, 64, 64],
  );

  function refusal(spec: unknown, budget: number): SpecError {
    try {
      buildPlan(spec, { memoryBudgetBytes: budget });
    } catch (err) {
      if (err instanceof SpecError) return err;
      throw err;
    }
    throw new Error('not refused');
  }

  it('fits exactly at its need, and is refused one byte below with the peak layer and the fix', () => {
    const need = 1024 ** 2 + 64 * 1024 + 580 * 4;
    expect(buildPlan(model, { memoryBudgetBytes: need }).totals.peakBytes).toBe(1024 ** 2 + 64 * 1024);
    const err = refusal(model, need - 1);
    expect(err.layer).toBe('wide');
    expect(err.param).toBe('input.shape');
    expect(err.message).toContain('the live activations peak at layer "wide" (conv2d, output [1, 64, 64, 64] of 1.0 MiB, the largest tensor)');
    expect(err.message).toContain('reduce the batch (--batch) or the input size, or raise the budget (--memory-budget <MiB>, default 4096)');
  });

  it('names the layer whose weights dominate, and does not suggest a smaller batch', () => {
    // 1024 x 4096 + 4096 floats = 16.02 MiB of weights, 16 KiB of activations at the peak.
    const fc = base([{ id: 'flat', op: 'flatten' }, { id: 'fc', op: 'linear', params: { out_features: 4096 } }], [1, 1024, 1, 1]);
    const err = refusal(fc, 8 * 1024 ** 2);
    expect(err.layer).toBe('fc');
    expect(err.message).toContain('the weights dominate: layer "fc" (linear) holds 16.0 MiB of them');
    expect(err.message).not.toContain('--batch');
    expect(err.message).toContain('--memory-budget');
  });

  it('inspect counts a model no budget lets run (exit 0, a note on stderr); profile and run refuse it (exit 2)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'convscope-budget-')), 'budget.convscope.json');
    writeFileSync(file, JSON.stringify(model));
    const capture = async (argv: string[]) => {
      const chunks: string[] = [];
      const [out, err] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
      const sink = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stderr.write;
      process.stderr.write = sink;
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        return { code: await main(argv), stderr: chunks.join('') };
      } finally {
        process.stderr.write = err;
        process.stdout.write = out;
      }
    };
    const inspect = await capture(['inspect', file, '--memory-budget', '1']);
    expect(inspect.code).toBe(0);
    expect(inspect.stderr).toContain('note: profile and run would refuse this model');
    expect(inspect.stderr).toContain('layer "wide"');
    expect((await capture(['inspect', file])).stderr).not.toContain('refuse');
    for (const argv of [
      ['profile', file, '--backend', 'cpu', '--memory-budget', '1'],
      ['run', file, '--backend', 'cpu', '--memory-budget', '1', '--output', `${file}.npy`],
    ]) {
      const r = await capture(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('exceeds the memory budget of 1.0 MiB; the live activations peak at layer "wide"');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
