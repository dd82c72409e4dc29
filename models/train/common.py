"""Model construction, scoring and metrics shared by train.py, evaluate.py and export_detector.py."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .data import ROBUST_CHAIN, apply_chain, crops_for_policy, to_chw
from .export_common import UInt8Input
from .mobilenet_port import MobileNetV2Keras
from .scores import ai_score_from_logits  # noqa: F401 (numpy only, there; imported from here by train and eval)

# nsfwjs feeds pixels / 255 (no mean subtraction): keep its input scaling so the pretrained weights see what
# they were trained on. In UInt8Input terms: (x - 0) / (1 * 255).
NSFWJS_MEAN = (0.0, 0.0, 0.0)
NSFWJS_STD = (1.0, 1.0, 1.0)


INPUTS = ("rgb", "highpass", "npr")


class ResidualInput(UInt8Input):
    """UInt8Input whose core sees a residual instead of the image: 0.5 + gain * (x - reference(x)).

    The reference is computed in the graph, so the runtime contract (uint8 NCHW in, normalisation inside the
    graph) is unchanged. Why: the residual removes most scene content and colour, leaving the fine texture where
    resampling and generator traces live (TRAINING-NOTES: better transfer to held-out sources). The 0.5 offset and
    gain put the residual in the [0, 1] range the nsfwjs weights were trained on.
    """

    REFERENCE = "reference(x)"  # how the subclass's reference reads in the bundle manifest

    def __init__(self, core, mean, std, gain: float = 4.0):
        super().__init__(core, mean=mean, std=std)
        self.gain = gain

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def describe(self) -> str:
        return f"0.5 + {self.gain:g} * (x - {self.REFERENCE}) computed in the graph"

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = (pixels.to(torch.float32) - self.mean) / self.std
        return self.core(0.5 + self.gain * (x - self.reference(x)))


class HighPassInput(ResidualInput):
    """Reference = fixed depthwise 5x5 binomial blur (sigma ~1 px), reflect padding: a high-pass residual."""

    REFERENCE = "blur5x5(x)"

    def __init__(self, core, mean, std, gain: float = 4.0):
        super().__init__(core, mean=mean, std=std, gain=gain)
        k1 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        k2 = torch.outer(k1, k1) / 256.0
        # non-persistent: checkpoints of the RGB model load into this one (same parameter names) and vice versa
        self.register_buffer("blur_kernel", k2.expand(3, 1, 5, 5).contiguous(), persistent=False)

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.blur_kernel, groups=3)


class NPRInput(ResidualInput):
    """Reference = nearest-neighbour 2x down then up (NPR, Tan et al., CVPR 2024).

    The residual is zero at the top-left pixel of every 2x2 block and holds the differences to it elsewhere. Why:
    the upsampling layers that GAN and diffusion decoders share leave correlated 2x2 neighbourhoods, a trace common
    to generators rather than to one. Nearest resizes export as ONNX Resize (static size).
    """

    REFERENCE = "up2(down2(x)) with nearest-neighbour resizes (NPR)"

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        d = F.interpolate(x, scale_factor=0.5, mode="nearest", recompute_scale_factor=True)
        return F.interpolate(d, scale_factor=2.0, mode="nearest", recompute_scale_factor=True)


def build_model(cut: str, dropout: float = 0.2, input: str = "rgb") -> UInt8Input:
    core = MobileNetV2Keras(cut=cut, num_classes=3, dropout=dropout)
    if input == "rgb":
        return UInt8Input(core, mean=NSFWJS_MEAN, std=NSFWJS_STD)
    if input == "highpass":
        return HighPassInput(core, mean=NSFWJS_MEAN, std=NSFWJS_STD)
    if input == "npr":
        return NPRInput(core, mean=NSFWJS_MEAN, std=NSFWJS_STD)
    raise ValueError(f"unknown input {input!r}; expected one of {INPUTS}")


def build_from_args(a: dict) -> UInt8Input:
    """Model for a checkpoint's saved train.py args (checkpoints from before --input are RGB)."""
    return build_model(a["cut"], input=a.get("input", "rgb"))


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties averaged). y: 1 = positive (AI)."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ss = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and ss[j + 1] == ss[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature scaling: T minimising the 3-class NLL on held-out logits (grid in log space, then refine)."""
    lt = torch.from_numpy(logits).double()
    yt = torch.from_numpy(np.asarray(y)).long()

    def nll(t):
        return float(F.cross_entropy(lt / t, yt))

    grid = np.exp(np.linspace(math.log(0.2), math.log(10.0), 161))
    best = min(grid, key=nll)
    fine = np.exp(np.linspace(math.log(best) - 0.05, math.log(best) + 0.05, 41))
    return float(min(fine, key=nll))


def ece(y_ai: np.ndarray, p_ai: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    e = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        m = (p_ai >= a) & (p_ai < b if b < 1 else p_ai <= b)
        if m.any():
            e += m.mean() * abs(p_ai[m].mean() - y_ai[m].mean())
    return float(e)


def eval_tensors(arrays, size: int, policy: dict, robust: bool) -> list[np.ndarray]:
    """For each image (uint8 HWC): its policy crops as uint8 [k,3,S,S]; robust applies the compression chain to the
    whole image first (JPEG q55 -> WebP q75 -> JPEG q80)."""
    from PIL import Image

    out = []
    for a in arrays:
        im = Image.fromarray(a)
        if robust:
            im = apply_chain(im, ROBUST_CHAIN)
        out.append(np.stack([to_chw(c) for c in crops_for_policy(im, size, policy)]))
    return out


@torch.no_grad()
def predict(model, crops: list[np.ndarray], batch: int = 64) -> np.ndarray:
    """Logits per image; multi-crop images get the mean of their crop probabilities, returned as log-probs."""
    model.eval()
    flat = np.concatenate(crops)
    idx = np.repeat(np.arange(len(crops)), [len(c) for c in crops])
    outs = []
    for i in range(0, len(flat), batch):
        outs.append(model(torch.from_numpy(flat[i : i + batch])).numpy())
    logits = np.concatenate(outs)
    if all(len(c) == 1 for c in crops):
        return logits
    # average probabilities over crops, return log of the mean (acts as logits for softmax)
    p = torch.softmax(torch.from_numpy(logits), 1).numpy()
    agg = np.zeros((len(crops), 3))
    np.add.at(agg, idx, p)
    agg /= np.array([len(c) for c in crops])[:, None]
    return np.log(np.clip(agg, 1e-12, 1))
