import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';

/**
 * Xception in the Keras applications layout: two plain 3x3 convs ("valid" padding: 299 -> 149 ->
 * 147), three entry modules (128, 256, 728), eight middle modules at 728, the exit flow (728 ->
 * 1024 module, then separable 1536 and 2048), global average pool and a 1000-way FC.
 */
export const xception: Preset = {
  id: 'xception',
  title: 'Xception (Keras layout, 299x299)',
  description:
    'Chollet 2017 as in keras.applications.Xception: entry flow (two 3x3 convs, modules of 128/256/728), 8 middle-flow modules, ' +
    'exit flow (728->1024 module, separable 1536 and 2048), global average pool, FC 1000, softmax. ' +
    '22,855,952 params + 54,528 BN buffers = Keras\'s 22,910,480 total.',
  source: 'Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017, Fig. 5; Keras applications table (Xception, 22.9M)',
  build() {
    const s = new SpecBuilder();
    s.op('conv1', 'conv2d', { out_channels: 32, kernel: 3, stride: 2, bias: false });
    s.op('conv1_bn', 'batch_norm');
    s.op('conv1_act', 'relu');
    s.op('conv2', 'conv2d', { out_channels: 64, kernel: 3, bias: false });
    s.op('conv2_bn', 'batch_norm');
    s.op('conv2_act', 'relu');
    s.block('entry1', 'xception_entry', { out_channels: 128, relu_first: false });
    s.block('entry2', 'xception_entry', { out_channels: 256 });
    s.block('entry3', 'xception_entry', { out_channels: 728 });
    for (let i = 1; i <= 8; i++) s.block(`middle${i}`, 'xception_middle');
    s.block('exit', 'xception_exit', { mid_channels: 728, out_channels: 1024, tail: [1536, 2048] });
    s.op('avg_pool', 'global_avg_pool');
    s.op('flatten', 'flatten', { start_dim: 1 });
    s.op('predictions', 'linear', { out_features: 1000 });
    s.op('prob', 'softmax', { axis: 1 });
    return s.build('Xception', [1, 3, 299, 299]);
  },
};
