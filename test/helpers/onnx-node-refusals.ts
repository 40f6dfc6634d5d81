/**
 * The ONNX node tests convscope is expected to refuse at import, each with the reason, so that a
 * case that imported and passed and now refuses fails test/onnx-node.test.ts.
 *
 * Two kinds of entries:
 * - RULES: limits of the convscope/v1 model itself, decided from the case's own data (CaseFacts)
 *   and confirmed by the importer's message. A convscope model has one float32 [N, C, H, W] input
 *   and one output; most node tests of element-wise ops feed [3, 4, 5] or [3] tensors, so they
 *   stop there whatever the op does. A rule never hides a regression: the facts it looks at do not
 *   change when the engine does.
 * - CASES: everything else, by name, with the message expected (a RegExp on the SpecError).
 *
 * Only the cases of REVIEWED_OPS are held to this list. The node tests of an op the importer
 * claims later (IMPORTED_ONNX_OPS grows) still run and must not compute a wrong result, but their
 * refusals are only recorded until the op is added here with its refusals reviewed.
 */
import { DataType } from '../../src/engine/onnx/proto.ts';
import type { CaseFacts } from './onnx-node.ts';

export interface RefusalRule {
  /** A few words, for the table in docs/onnx-node-tests.md. */
  why: string;
  /** What the limit is, in a sentence, for the same table. */
  detail: string;
  applies(facts: CaseFacts): boolean;
  message: RegExp;
}

export const RULES: RefusalRule[] = [
  {
    why: 'input not 4-D',
    detail: "a convscope model's input is one [N, C, H, W] tensor",
    applies: (f) => f.inputRank !== null && f.inputRank !== 4,
    message: /has rank \d+; convscope models take a 4-D NCHW input/,
  },
  {
    why: 'integer input',
    detail: "convscope runs float32 models",
    applies: (f) => f.inputType !== null && f.inputType !== DataType.FLOAT,
    message: /has element type \w+; convscope runs float32 models/,
  },
  {
    why: 'sequence or optional input',
    detail: "a convscope model's input is a tensor",
    applies: (f) => f.inputType === null && f.inputs === 1,
    message: /input "[^"]+" is not a tensor/,
  },
  {
    why: 'no input',
    detail: "the graph computes a constant: there is nothing to run",
    applies: (f) => f.inputs === 0,
    message: /convscope models take exactly one input tensor; this graph has 0/,
  },
  {
    why: 'second output read',
    detail: "the case reads MaxPool's indices, Dropout's mask or training BatchNormalization's statistics; convscope ops have one output (and run inference)",
    applies: (f) => f.graphOutputs > 1,
    message: /only its first output can be used/,
  },
];

export const CASES: Record<string, { why: string; message: RegExp }> = {
  // PyTorch's pools refuse padding above half the kernel, and convscope's pools are PyTorch's.
  test_averagepool_2d_pads: { why: 'pads 2 > half the 3x3 kernel', message: /padding \[2, 2, 2, 2\].* is more than half the 3x3 kernel/ },
  test_averagepool_2d_pads_count_include_pad: { why: 'pads 2 > half the 3x3 kernel', message: /padding \[2, 2, 2, 2\].* is more than half the 3x3 kernel/ },
  test_maxpool_2d_pads: { why: 'pads 2 > half the 3x3 kernel', message: /padding \[2, 2, 2, 2\].* is more than half the 3x3 kernel/ },
  // The importer computes ConvTranspose padding from pads only; SAME_* and an output_shape larger
  // than the pads give need an output_padding it does not derive.
  test_convtranspose_autopad_same: { why: 'auto_pad SAME_UPPER', message: /auto_pad SAME_UPPER is not supported for ConvTranspose/ },
  test_convtranspose_output_shape: { why: 'output_shape needs output_padding', message: /output_shape \[10, 8\] needs output padding/ },
  // convscope's flatten merges one run of neighbouring dimensions and keeps the ones before it:
  // [2, 3, 4, 5] -> [1, 120] folds the batch into the features, [6, 20] makes two merges.
  test_flatten_axis0: { why: 'flatten to [1, 120]', message: /reshaping \[2, 3, 4, 5\] to \[1, 120\] is not supported/ },
  test_flatten_negative_axis4: { why: 'flatten to [1, 120]', message: /reshaping \[2, 3, 4, 5\] to \[1, 120\] is not supported/ },
  test_flatten_axis2: { why: 'flatten to [6, 20]', message: /reshaping \[2, 3, 4, 5\] to \[6, 20\] is not supported/ },
  test_flatten_negative_axis2: { why: 'flatten to [6, 20]', message: /reshaping \[2, 3, 4, 5\] to \[6, 20\] is not supported/ },
  // An Identity of the input is a model with no op to profile.
  test_identity: { why: 'output is the input', message: /graph output "y" is the input itself/ },
  // The MatMul weight (here the second input, made an initializer) is a batch of matrices.
  test_matmul_4d: { why: 'batched MatMul (4-D weight)', message: /the weight \(input 1\) must be 2-D, got \[1, 2, 4, 3\]/ },
};

/**
 * The ops whose node tests were reviewed against this list: the importer's IMPORTED_ONNX_OPS
 * when it was written. Add an op here once its refusals are listed.
 */
export const REVIEWED_OPS: readonly string[] = [
  'AveragePool',
  'BatchNormalization',
  'Clip',
  'Concat',
  'Constant',
  'Conv',
  'ConvTranspose',
  'DeformConv',
  'Dropout',
  'Flatten',
  'Gemm',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Identity',
  'LRN',
  'MatMul',
  'MaxPool',
  'Mul',
  'Add',
  'Relu',
  'Reshape',
  'Sigmoid',
  'Softmax',
];

/** Why the refusal of `name` is expected (its entry or the first rule that applies and matches), or null. */
export function expectedRefusal(name: string, facts: CaseFacts | undefined, message: string): string | null {
  const entry = CASES[name];
  if (entry) return entry.message.test(message) ? entry.why : null;
  const rule = facts ? RULES.find((r) => r.applies(facts) && r.message.test(message)) : undefined;
  return rule?.why ?? null;
}
