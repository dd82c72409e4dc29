"""Binary scores for calibration studies, numpy only (unit-tested without torch: test_scores.py)."""
from __future__ import annotations

import math

import numpy as np


def ai_score_from_logits(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """P(AI) = p_synthetic + p_semisynthetic = 1 - p_real, of softmax(logits / temperature)."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return 1.0 - p[:, 0]


def fit_platt(z: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """Platt scaling: (a, b) minimising the binary NLL of sigmoid(a*z + b) against y (1 = AI); Newton steps."""
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a, b = 1.0, 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(a * z + b)))
        w = p * (1 - p) + 1e-12
        g = np.array([((p - y) * z).mean(), (p - y).mean()])
        h = np.array([[(w * z * z).mean(), (w * z).mean()], [(w * z).mean(), w.mean()]]) + 1e-9 * np.eye(2)
        da, db = np.linalg.solve(h, g)
        a, b = a - da, b - db
    return float(a), float(b)


def binary_metrics(y_ai: np.ndarray, p_ai: np.ndarray) -> dict:
    """The eval CLI's binary scores (veracity-eval): Brier, MCC and accuracy at 0.5, and
    sn34 = sqrt(((MCC+1)/2)^1.2 * max(0, (0.25-Brier)/0.25)^1.8)."""
    y, p = np.asarray(y_ai).astype(bool), np.asarray(p_ai, dtype=np.float64)
    pred = p >= 0.5
    tp, tn = float((pred & y).sum()), float((~pred & ~y).sum())
    fp, fn = float((pred & ~y).sum()), float((~pred & y).sum())
    den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / den if den else 0.0
    brier = float(((p - y) ** 2).mean())
    sn34 = math.sqrt(((mcc + 1) / 2) ** 1.2 * max(0.0, (0.25 - brier) / 0.25) ** 1.8)
    return {"brier": brier, "mcc": mcc, "accuracy": float((pred == y).mean()), "sn34": sn34}
