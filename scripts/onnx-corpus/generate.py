#!/usr/bin/python3
"""
The ONNX test corpus: torchvision models that nobody on this project wrote, exported by PyTorch's
own exporter, with PyTorch's output on a seeded input and counts taken from PyTorch itself.
test/onnx-corpus.test.ts reads what this writes. Python is for generating test data only; the
product never runs it.

Run with Debian's Python (torch 1.13, torchvision 0.14, onnx 1.12):

    /usr/bin/python3 scripts/onnx-corpus/generate.py --small        # the quick ones (CI)
    /usr/bin/python3 scripts/onnx-corpus/generate.py                # every model in MODELS
    /usr/bin/python3 scripts/onnx-corpus/generate.py --only vgg16   # named ones (any in MODELS)

Per model, in <out>/<name>/: model.onnx, input.npy (float32, seeded normal), output.npy
(PyTorch's output on it, eval mode), meta.json. A model whose meta.json has this SCRIPT_VERSION
and whose files are all there is skipped, so a second run costs nothing.

Weights are random (torch.manual_seed), not trained. torchvision initialises BatchNorm as the
identity (gamma 1, beta 0, mean 0, var 1), which would let a wrong folding of the statistics go
unnoticed, so every BatchNorm's four vectors are drawn from the seed too.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torchvision
from torch import nn

SCRIPT_VERSION = 2
OPSET = 17
SEED = 0

# name -> (constructor keyword arguments, input size, in --small).
# --small: the models whose export and whose engine + onnxruntime runs take seconds on a
# two-core machine (under ~10 M parameters and ~1.2 GMACs; sizes in docs/onnx.md). resnet18 is
# in for the plain ResNet topology although it is 11.7 M parameters (47 MB).
MODELS = {
    'alexnet': ({}, 224, False),
    'vgg11': ({}, 224, False),
    'vgg16': ({}, 224, False),
    'resnet18': ({}, 224, True),
    'resnet50': ({}, 224, False),
    'resnext50_32x4d': ({}, 224, False),
    'mobilenet_v2': ({}, 224, True),
    'mobilenet_v3_small': ({}, 224, True),
    'mobilenet_v3_large': ({}, 224, True),
    'shufflenet_v2_x1_0': ({}, 224, True),
    'squeezenet1_0': ({}, 224, True),
    'densenet121': ({}, 224, False),
    # Eval mode returns only the main logits; aux_logits=False also drops the auxiliary heads'
    # parameters, which the exported graph would not contain anyway.
    'googlenet': ({'aux_logits': False, 'init_weights': True}, 224, True),
    'inception_v3': ({'aux_logits': False, 'init_weights': True}, 299, False),
    'efficientnet_b0': ({}, 224, True),
    'regnet_x_400mf': ({}, 224, True),
    'regnet_y_400mf': ({}, 224, True),
    'mnasnet1_0': ({}, 224, True),
    'convnext_tiny': ({}, 224, False),
}


def randomize_batch_norms(model: nn.Module, gen: torch.Generator) -> None:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            with torch.no_grad():
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                    m.bias.copy_(torch.rand(c, generator=gen) * 0.2 - 0.1)
                m.running_mean.copy_(torch.rand(c, generator=gen) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)


def hook_macs(model: nn.Module, x: torch.Tensor):
    """Conv2d: out.numel * in_channels / groups * kh * kw; Linear: out.numel * in_features; every other op 0."""
    counts = {'conv2d': 0, 'linear': 0}
    layers = {'conv2d': 0, 'linear': 0}

    def conv_hook(m, _inp, out):
        kh, kw = m.kernel_size
        counts['conv2d'] += out.numel() * (m.in_channels // m.groups) * kh * kw
        layers['conv2d'] += 1

    def linear_hook(m, _inp, out):
        counts['linear'] += out.numel() * m.in_features
        layers['linear'] += 1

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        y = model(x)
    for h in handles:
        h.remove()
    return y, counts, layers


def initializer_counts(path: str):
    """
    Elements of the file's float initializers: each once, each once per node reading it, and by
    the op types reading them. The exporter stores equal initializers once (torchvision's zero
    conv biases in squeezenet and efficientnet's SE layers): a file's tensor read by three Convs
    is three layers' parameters.
    """
    m = onnx.load(path)
    readers = {}
    uses = {}
    for n in m.graph.node:
        for name in set(n.input):
            readers.setdefault(name, set()).add(n.op_type)
            uses[name] = uses.get(name, 0) + 1
    total = 0
    per_use = 0
    by_reader = {}
    tensors = 0
    for t in m.graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT:
            continue
        count = int(np.prod(t.dims)) if len(t.dims) > 0 else 1
        total += count
        per_use += count * max(1, uses.get(t.name, 0))
        tensors += 1
        key = '+'.join(sorted(readers.get(t.name, {'(unread)'})))
        by_reader[key] = by_reader.get(key, 0) + count
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return total, per_use, tensors, by_reader, dict(sorted(ops.items()))


def up_to_date(folder: str) -> bool:
    try:
        with open(os.path.join(folder, 'meta.json')) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    files = ['model.onnx', 'input.npy', 'output.npy']
    return meta.get('script_version') == SCRIPT_VERSION and all(os.path.isfile(os.path.join(folder, n)) for n in files)


def generate(name: str, out_dir: str) -> dict:
    kwargs, size, _small = MODELS[name]
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    started = time.time()
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    gen = torch.Generator().manual_seed(SEED + 1)
    randomize_batch_norms(model, gen)
    model.eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(SEED + 2))
    y, macs, layers = hook_macs(model, x)

    # Written to a temporary name and renamed last, with meta.json after it, so an interrupted run
    # never leaves a folder that looks complete.
    onnx_path = os.path.join(folder, 'model.onnx')
    with torch.no_grad():
        torch.onnx.export(model, x, onnx_path + '.tmp', opset_version=OPSET, input_names=['input'], output_names=['output'], do_constant_folding=True)
    os.replace(onnx_path + '.tmp', onnx_path)
    np.save(os.path.join(folder, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(folder, 'output.npy'), y.numpy().astype(np.float32))

    total, per_use, tensors, by_reader, ops = initializer_counts(onnx_path)
    params = sum(p.numel() for p in model.parameters())
    float_buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    meta = {
        'script_version': SCRIPT_VERSION,
        'model': name,
        'constructor': f'torchvision.models.{name}(weights=None{"".join(f", {k}={v!r}" for k, v in kwargs.items())})',
        'seed': SEED,
        'input_shape': list(x.shape),
        'output_shape': list(y.shape),
        'opset': OPSET,
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'onnx': onnx.__version__,
        'file_bytes': os.path.getsize(onnx_path),
        'file_float_initializer_elements': total,
        'file_float_initializer_elements_per_use': per_use,
        'file_float_initializers': tensors,
        'file_float_initializer_elements_by_reader': by_reader,
        'file_ops': ops,
        'torch_parameters': params,
        'torch_float_buffers': float_buffers,
        'hook_macs': {'conv2d': macs['conv2d'], 'linear': macs['linear'], 'total': macs['conv2d'] + macs['linear']},
        'hook_layers': layers,
        'generate_seconds': round(time.time() - started, 1),
    }
    with open(os.path.join(folder, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    return meta


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--small', action='store_true', help='only the models that generate and run quickly (the ones CI generates)')
    ap.add_argument('--only', help='comma-separated model names (any of: ' + ', '.join(MODELS) + ')')
    ap.add_argument('--out', default=os.path.join(here, '..', '..', 'test', 'corpus'), help='output folder (default: test/corpus)')
    ap.add_argument('--force', action='store_true', help='regenerate models that are already up to date')
    args = ap.parse_args()

    if args.only:
        names = [n.strip() for n in args.only.split(',') if n.strip()]
        unknown = [n for n in names if n not in MODELS]
        if unknown:
            print(f'unknown model(s): {", ".join(unknown)}; known: {", ".join(MODELS)}', file=sys.stderr)
            return 2
    else:
        names = [n for n, (_, _, small) in MODELS.items() if small or not args.small]
    out_dir = os.path.normpath(args.out)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for name in names:
        folder = os.path.join(out_dir, name)
        if not args.force and up_to_date(folder):
            print(f'{name}: up to date', file=sys.stderr)
            continue
        meta = generate(name, out_dir)
        print(f'{name}: {meta["file_bytes"] / 1e6:.1f} MB, {meta["torch_parameters"]:,} params, '
              f'{meta["hook_macs"]["total"]:,} MACs, {meta["generate_seconds"]} s', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
