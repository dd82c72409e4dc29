"""Unit tests for operating_point.py (numpy only, no torch):
/usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from .operating_point import operating_point, rates, threshold_at_fpr, with_operating_point
from .scores import ai_score_from_logits

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def logits_for(p_ai: np.ndarray) -> np.ndarray:
    """3-class logits whose P(AI) at T = 1 is p_ai (all of the AI mass on `synthetic`)."""
    p = np.clip(np.asarray(p_ai, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.stack([np.log(1 - p), np.log(p), np.full(len(p), -30.0)], axis=1)


class Threshold(unittest.TestCase):
    def test_never_flags_more_than_the_target_share_of_real_items(self):
        rng = np.random.default_rng(0)
        for n in (1, 7, 20, 99, 588, 5000):
            real = rng.beta(2, 3, n)
            for fpr in (0.01, 0.05, 0.1, 0.3):
                t = threshold_at_fpr(real, fpr)
                self.assertLessEqual((real >= t).mean(), fpr + 1e-12, (n, fpr))
                # ...and it is the lowest such 4-decimal threshold: one step down flags more than the target
                if t > 1e-4:
                    self.assertGreater((real >= t - 1e-4).mean(), fpr, (n, fpr, t))

    def test_a_known_ranking(self):
        real = np.arange(1, 21) / 21  # 20 real items, P(AI) 1/21 .. 20/21
        t = threshold_at_fpr(real, 0.05)  # one of 20 may be flagged: the top one, 20/21 = 0.95238
        self.assertEqual(t, 0.9048)  # just above 19/21 = 0.904762
        self.assertEqual(rates(np.zeros(20), real, t), {"fpr": 0.05, "tpr": None})

    def test_ties_at_the_cut_are_not_flagged(self):
        real = np.array([0.9] * 10 + [0.1] * 90)
        t = threshold_at_fpr(real, 0.05)  # five of the ten 0.9s would be "the 95th percentile": none may be flagged
        self.assertGreater(t, 0.9)
        self.assertEqual((real >= t).sum(), 0)

    def test_bad_input_is_refused(self):
        with self.assertRaises(ValueError):
            threshold_at_fpr(np.array([]), 0.05)
        with self.assertRaises(ValueError):
            threshold_at_fpr(np.array([0.2]), 1.0)


class OperatingPoint(unittest.TestCase):
    def preds(self):
        rng = np.random.default_rng(1)
        real, ai = rng.beta(2, 4, 200), rng.beta(4, 2, 100)
        tae_real = np.full(50, 0.99)  # would move the threshold if it were counted
        p = np.concatenate([real, ai, tae_real])
        groups = np.array(["photos"] * 200 + ["gen"] * 100 + ["tae-sd"] * 50)
        y = np.array([0] * 200 + [1] * 100 + [0] * 50)
        held_p = np.concatenate([rng.beta(2, 4, 40), rng.beta(4, 2, 60)])
        return {"val_clean": logits_for(p), "val_robust": logits_for(p), "val_y": y, "val_group": groups,
                "holdout_clean": logits_for(held_p), "holdout_y": np.array([0] * 40 + [2] * 60)}, real, held_p

    def test_chosen_on_validation_real_photos_outside_the_excluded_groups(self):
        preds, real, held_p = self.preds()
        t, m = operating_point(preds, 1.0, 0.05)
        self.assertEqual(t, threshold_at_fpr(real, 0.05))
        self.assertEqual((m["threshold"], m["target_fpr"]), (t, 0.05))
        self.assertEqual((m["validation"]["n_real"], m["validation"]["n_ai"]), (200, 100))
        self.assertLessEqual(m["validation"]["clean"]["at_threshold"]["fpr"], 0.05)
        self.assertEqual(m["validation"]["clean"]["at_0.5"], rates(np.array([0] * 200 + [1] * 100),
                                                                   np.concatenate([real, ai_score_from_logits(preds["val_clean"][200:300])]), 0.5))
        held = m["held_out"]
        self.assertEqual((held["n_real"], held["n_ai"]), (40, 60))
        self.assertEqual(held["clean"]["at_threshold"], rates(np.array([0] * 40 + [1] * 60), held_p, t))
        self.assertNotIn("robust", held)  # no holdout_robust in this run
        counted, _ = operating_point(preds, 1.0, 0.05, exclude="")
        self.assertGreater(counted, 0.99)  # the 50 TAE reals at 0.99 are 20 % of all reals

    def test_temperature_is_applied(self):
        preds, _, _ = self.preds()
        t1, _ = operating_point(preds, 1.0)
        t2, _ = operating_point(preds, 2.0)  # softer probabilities: a lower cut for the same ranking
        self.assertLess(t2, t1)

    def test_manifest_rewrite_keeps_everything_else(self):
        m = {"schema": 1, "calibration": {"method": "temperature", "temperature": 0.99, "threshold": 0.7},
             "crop": {"policy": "squash"}, "metrics": {"a": 1}}
        out = with_operating_point(m, 0.8, 0.05, {"threshold": 0.8})
        self.assertEqual(list(out), list(m))
        self.assertEqual(out["calibration"], {"method": "temperature", "temperature": 0.99, "threshold": 0.8, "thresholdFpr": 0.05})
        self.assertEqual(out["metrics"], {"a": 1, "operating_point": {"threshold": 0.8}})
        self.assertEqual(m["calibration"]["threshold"], 0.7)  # the input is not modified


class Stage(unittest.TestCase):
    def test_the_stage_rewrites_only_calibration_and_metrics(self):
        with tempfile.TemporaryDirectory() as d:
            preds, _, _ = OperatingPoint().preds()
            np.savez(os.path.join(d, "preds.npz"), **preds)
            with open(os.path.join(REPO, "models", "fixtures", "tiny", "manifest.json"), encoding="utf-8") as f:
                before = json.load(f)
            with open(os.path.join(d, "manifest.json"), "w", encoding="utf-8") as f:
                json.dump(before, f, indent=2)
            run = subprocess.run([sys.executable, "-m", __package__, "threshold", "--preds", os.path.join(d, "preds.npz"),
                                  "--bundle", d, "--fpr", "0.1"], capture_output=True, text=True, cwd=REPO)
            self.assertEqual(run.returncode, 0, run.stderr)
            with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
                after = json.load(f)
        t, metrics = operating_point(preds, before["calibration"]["temperature"], 0.1)
        self.assertEqual(after, with_operating_point(before, t, 0.1, metrics))
        self.assertEqual({k: v for k, v in after.items() if k not in ("calibration", "metrics")},
                         {k: v for k, v in before.items() if k not in ("calibration", "metrics")})


if __name__ == "__main__":
    unittest.main()
