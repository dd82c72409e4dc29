"""Unit tests for scores.py (numpy only): /usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import math
import unittest

import numpy as np

from .scores import binary_metrics, fit_platt


class Scores(unittest.TestCase):
    def test_platt_recovers_the_generating_slope_and_offset(self):
        rng = np.random.default_rng(0)
        z = rng.normal(0, 2, 20000)
        y = (rng.random(len(z)) < 1 / (1 + np.exp(-(0.4 * z - 0.7)))).astype(float)
        a, b = fit_platt(z, y)
        self.assertAlmostEqual(a, 0.4, delta=0.03)
        self.assertAlmostEqual(b, -0.7, delta=0.05)

    def test_platt_on_an_uninformative_score_learns_the_base_rate(self):
        rng = np.random.default_rng(1)
        z = rng.normal(0, 1, 5000)
        y = (rng.random(len(z)) < 0.8).astype(float)
        a, b = fit_platt(z, y)
        self.assertLess(abs(a), 0.1)
        self.assertAlmostEqual(1 / (1 + math.exp(-b)), y.mean(), delta=0.01)

    def test_binary_metrics_match_the_eval_cli_formula(self):
        y = np.array([1, 1, 0, 0])
        perfect = binary_metrics(y, np.array([1.0, 1.0, 0.0, 0.0]))
        self.assertEqual((perfect["brier"], perfect["mcc"], perfect["accuracy"], perfect["sn34"]), (0.0, 1.0, 1.0, 1.0))
        m = binary_metrics(y, np.array([0.9, 0.4, 0.2, 0.6]))  # one miss each way
        self.assertAlmostEqual(m["brier"], (0.01 + 0.36 + 0.04 + 0.36) / 4)
        self.assertEqual((m["mcc"], m["accuracy"]), (0.0, 0.5))
        self.assertAlmostEqual(m["sn34"], math.sqrt(0.5 ** 1.2 * ((0.25 - m["brier"]) / 0.25) ** 1.8))
        # Brier at or above 0.25 (no better than always answering 0.5) scores zero whatever the MCC
        self.assertEqual(binary_metrics(y, np.full(4, 0.5))["sn34"], 0.0)


if __name__ == "__main__":
    unittest.main()
