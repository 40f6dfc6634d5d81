"""
Writes torch-math-ops.onnx next to this file: a tiny network with every element-wise,
normalisation, reduction and binary op that torchvision / timm exports use, exported by
torch.onnx.export at opset 17 as a real model would be (test/onnx-import-math.test.ts reads it).
Run with Debian's python (torch 1.13): /usr/bin/python3 test/data/onnx/make-torch-math-ops.py
"""
import os
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.hs = nn.Hardswish()
        self.fc1 = nn.Conv2d(8, 4, 1)
        self.fc2 = nn.Conv2d(4, 8, 1)
        self.gate = nn.Hardsigmoid()
        self.silu = nn.SiLU()
        self.ln = nn.LayerNorm(6, eps=1e-6)
        self.mlp1 = nn.Linear(6, 12)
        self.gelu = nn.GELU()
        self.mlp2 = nn.Linear(12, 6)
        self.gelu_tanh = nn.GELU(approximate="tanh")
        self.layer_scale = nn.Parameter(torch.rand(8, 1, 1) + 0.5)
        self.register_buffer("mean", torch.tensor([0.1, -0.2, 0.3]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.5, 0.8, 1.5]).view(1, 3, 1, 1))
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = (x - self.mean) / self.std
        y = self.hs(self.bn(self.stem(x)))
        s = y.mean((2, 3), keepdim=True)
        s = self.gate(self.fc2(torch.relu(self.fc1(s))))
        y = self.silu(y * s)
        z = self.mlp2(self.gelu(self.mlp1(self.ln(y))))
        y = y + self.layer_scale * self.gelu_tanh(z)
        y = torch.clamp(y, -1.0, 2.0)
        m = torch.amax(y, dim=(2, 3))
        return self.head(m)


net = Net().eval()
with torch.no_grad():
    net.bn.running_mean.uniform_(-0.2, 0.2)
    net.bn.running_var.uniform_(0.5, 1.5)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch-math-ops.onnx")
torch.onnx.export(net, torch.randn(1, 3, 6, 6), out, opset_version=17, input_names=["x"], output_names=["y"])
print(out, os.path.getsize(out), "bytes")
