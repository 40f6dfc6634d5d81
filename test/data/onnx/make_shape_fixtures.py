"""Tiny models exported by torch.onnx.export (opset 17) for test/onnx-shape-import.test.ts.

Run with Debian's Python (torch 1.13, onnx 1.12): /usr/bin/python3 test/data/onnx/make_shape_fixtures.py
Each file stays far below 50 KB; the weights are seeded, so a rerun writes the same models.
"""
import os
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.shufflenetv2 import InvertedResidual

HERE = os.path.dirname(os.path.abspath(__file__))


class ShuffleV2(nn.Module):
    """Two torchvision ShuffleNet v2 units: stride 2 (two branches, concat, shuffle), then
    stride 1 (x.chunk(2, dim=1) exported as Shape/Gather/Add/Div/Mul/Slice, shuffle)."""

    def __init__(self):
        super().__init__()
        self.a = InvertedResidual(8, 16, 2)
        self.b = InvertedResidual(16, 16, 1)

    def forward(self, x):
        return self.b(self.a(x))


class Upsampling(nn.Module):
    """nn.Upsample nearest x2, F.interpolate bilinear to a size (align_corners False and True)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')

    def forward(self, x):
        y = self.up(self.conv(x))
        a = F.interpolate(y, size=(11, 13), mode='bilinear', align_corners=False)
        b = F.interpolate(y, size=(11, 13), mode='bilinear', align_corners=True)
        return a + b


class Padding(nn.Module):
    """ReflectionPad2d, ReplicationPad2d and F.pad with a constant, around convolutions."""

    def __init__(self):
        super().__init__()
        self.reflect = nn.ReflectionPad2d((1, 2, 2, 1))
        self.conv = nn.Conv2d(3, 4, 3)
        self.edge = nn.ReplicationPad2d(1)

    def forward(self, x):
        y = self.conv(self.reflect(x))
        return F.pad(self.edge(y), (0, 1, 2, 0), value=0.5)


class Views(nn.Module):
    """permute, reshape with -1, slicing with steps, flip-free negative indexing, torch.split,
    unsqueeze / squeeze and flatten: the data movement a detection or transformer head does."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1)

    def forward(self, x):
        y = self.conv(x)                                  # [1, 6, 8, 8]
        p = y.permute(0, 2, 3, 1).reshape(1, -1, 3)       # [1, 128, 3]
        s = y[:, 1:5, ::2, -5:]                           # [1, 4, 4, 5]
        a, b = torch.split(s, [1, 3], dim=1)
        u = (a * b[:, 2:3] + b[:, :1]).unsqueeze(2).squeeze(2)
        return torch.cat([p.flatten(1), u.flatten(1)], 1)


def export(model, shape, name):
    torch.manual_seed(0)
    for p in model.parameters():
        nn.init.uniform_(p, -0.5, 0.5)
    model.eval()
    path = os.path.join(HERE, name)
    torch.onnx.export(model, torch.randn(*shape), path, opset_version=17, input_names=['x'], output_names=['y'])
    print(path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    export(ShuffleV2(), (1, 8, 12, 12), 'shufflenet_v2_units.onnx')
    export(Upsampling(), (1, 3, 5, 6), 'upsampling.onnx')
    export(Padding(), (1, 3, 7, 8), 'padding.onnx')
    export(Views(), (1, 3, 8, 8), 'views.onnx')
