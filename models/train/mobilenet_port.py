"""PyTorch MobileNetV2 with Keras semantics, loadable from the nsfwjs weights dumped by port_nsfwjs.cjs.

Keras details kept so the port is exact: ZeroPadding2D((0,1),(0,1)) before every stride-2 3x3 conv (instead of
PyTorch's symmetric padding), BatchNorm eps 1e-3, ReLU6, kernels HWIO -> OIHW (depthwise HWC1 -> C1HW).
Input: float RGB NCHW scaled like nsfwjs (pixels / 255, no mean subtraction).

`cut` truncates the backbone after Keras block `cut` (0..16) and drops the rest (and the 1280-channel Conv_1
unless cut == "full"); the detector head is global average pooling + dropout + Linear(C, 3).
"""
from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# (expansion t, output channels c, repeats n, first stride s) of MobileNetV2 alpha=1.0
CONFIG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
BN_EPS = 1e-3


def block_specs():
    """[(keras_prefix, in_ch, t, out_ch, stride)] for blocks 0..16."""
    specs = []
    cin = 32
    idx = 0
    for t, c, n, s in CONFIG:
        for i in range(n):
            prefix = "expanded_conv" if idx == 0 else f"block_{idx}"
            specs.append((prefix, cin, t, c, s if i == 0 else 1))
            cin = c
            idx += 1
    return specs


class KPad(nn.Module):
    """Keras correct_pad for even sizes: 0 before, 1 after (height and width)."""

    def forward(self, x):
        return F.pad(x, (0, 1, 0, 1))


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride=1, groups=1, act=True, name=""):
        super().__init__()
        self.name = name
        self.pad = KPad() if stride == 2 else nn.Identity()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=(k // 2 if stride == 1 else 0), groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=0.01)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(self.pad(x))))


class InvertedResidual(nn.Module):
    def __init__(self, prefix, cin, t, cout, stride):
        super().__init__()
        hidden = cin * t
        layers = []
        if t != 1:
            layers.append(ConvBN(cin, hidden, 1, name=f"{prefix}_expand"))
        layers.append(ConvBN(hidden, hidden, 3, stride=stride, groups=hidden, name=f"{prefix}_depthwise"))
        layers.append(ConvBN(hidden, cout, 1, act=False, name=f"{prefix}_project"))
        self.layers = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.layers(x)
        return x + y if self.residual else y


class MobileNetV2Keras(nn.Module):
    def __init__(self, cut="full", num_classes=3, dropout=0.2):
        super().__init__()
        specs = block_specs()
        last = 16 if cut == "full" else int(cut)
        self.cut = cut
        self.stem = ConvBN(3, 32, 3, stride=2, name="Conv1")
        self.blocks = nn.Sequential(*[InvertedResidual(*s) for s in specs[: last + 1]])
        ch = specs[last][3]
        if cut == "full":
            self.top = ConvBN(320, 1280, 1, name="Conv_1")
            ch = 1280
        else:
            self.top = nn.Identity()
        self.feature_dim = ch
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(ch, num_classes)

    def features(self, x):
        return self.top(self.blocks(self.stem(x)))

    def forward(self, x):
        f = self.features(x).mean(dim=(2, 3))
        return self.fc(self.dropout(f))


def _bn_name(conv_name: str) -> str:
    if conv_name == "Conv1":
        return "bn_Conv1"
    if conv_name == "Conv_1":
        return "Conv_1_bn"
    return conv_name + "_BN"


def load_nsfwjs(model: MobileNetV2Keras, weights_dir: str) -> list[str]:
    """Copies the nsfwjs backbone weights into `model` (head left as is). Returns the Keras names used."""
    with open(os.path.join(weights_dir, "nsfwjs_weights.json")) as f:
        index = json.load(f)["weights"]
    raw = np.fromfile(os.path.join(weights_dir, "nsfwjs_weights.bin"), dtype="<f4")
    table = {}
    for w in index:
        name = w["name"].split(":")[0]
        table[name] = raw[w["offset"] // 4 : w["offset"] // 4 + w["length"]].reshape(w["shape"])
    used = []
    for m in model.modules():
        if not isinstance(m, ConvBN):
            continue
        dw = m.conv.groups > 1
        kname = f"{m.name}/depthwise_kernel" if dw else f"{m.name}/kernel"
        k = table[kname]
        k = np.transpose(k, (2, 3, 0, 1)) if dw else np.transpose(k, (3, 2, 0, 1))  # HWC1 -> C1HW, HWIO -> OIHW
        assert tuple(k.shape) == tuple(m.conv.weight.shape), (kname, k.shape, m.conv.weight.shape)
        bn = _bn_name(m.name)
        with torch.no_grad():
            m.conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(k)))
            m.bn.weight.copy_(torch.from_numpy(table[f"{bn}/gamma"]))
            m.bn.bias.copy_(torch.from_numpy(table[f"{bn}/beta"]))
            m.bn.running_mean.copy_(torch.from_numpy(table[f"{bn}/moving_mean"]))
            m.bn.running_var.copy_(torch.from_numpy(table[f"{bn}/moving_variance"]))
        used += [kname, f"{bn}/gamma", f"{bn}/beta", f"{bn}/moving_mean", f"{bn}/moving_variance"]
    return used


class NsfwjsOriginalHead(nn.Module):
    """The original nsfwjs classifier on top of the full backbone (only for the port's parity check)."""

    def __init__(self, backbone: MobileNetV2Keras, weights_dir: str):
        super().__init__()
        self.backbone = backbone
        with open(os.path.join(weights_dir, "nsfwjs_weights.json")) as f:
            index = json.load(f)["weights"]
        raw = np.fromfile(os.path.join(weights_dir, "nsfwjs_weights.bin"), dtype="<f4")
        t = {w["name"].split(":")[0]: raw[w["offset"] // 4 : w["offset"] // 4 + w["length"]].reshape(w["shape"]) for w in index}
        self.d1 = nn.Linear(1280, 256)
        self.d2 = nn.Linear(256, 128)
        self.d3 = nn.Linear(128, 5)
        with torch.no_grad():
            for lin, name in ((self.d1, "dense_1"), (self.d2, "dense_2"), (self.d3, "dense_3")):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(t[f"{name}/kernel"].T)))
                lin.bias.copy_(torch.from_numpy(t[f"{name}/bias"]))

    def forward(self, x):
        f = self.backbone.features(x).mean(dim=(2, 3))
        return f, torch.softmax(self.d3(F.relu(self.d2(F.relu(self.d1(f))))), dim=1)
