"""The stage table, the recipe format and the shipped bundle's lineage (no torch):
/usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import glob
import json
import os
import subprocess
import sys
import unittest
from fnmatch import fnmatch

from .recipe import RecipeError, commands, load, stage_args, validate
from .stages import STAGES

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def minimal(**over):
    r = {"recipe": 1, "bundle": {"id": "b", "version": "0.1.0"}, "inputs": {"DATA": {"path": "d"}},
         "values": {"HELD": "g1,g2"}, "steps": [{"stage": "train", "args": ["--data", "{DATA}", "--holdout", "{HELD}"]}]}
    r.update(over)
    return r


class Stages(unittest.TestCase):
    def test_every_stage_is_a_module_of_the_package(self):
        for stage, (module, what) in STAGES.items():
            self.assertTrue(os.path.isfile(os.path.join(HERE, f"{module}.py")), stage)
            self.assertTrue(what)

    def test_the_package_lists_its_stages_and_refuses_an_unknown_one(self):
        run = lambda *a: subprocess.run([sys.executable, "-m", __package__, *a], capture_output=True, text=True, cwd=REPO)
        listed = run("--help")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        for stage in STAGES:
            self.assertIn(f"  {stage} ", listed.stdout)
        bad = run("nonesuch")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown stage 'nonesuch'", bad.stderr)

    def test_a_stage_runs_its_module(self):
        run = subprocess.run([sys.executable, "-m", __package__, "recipe", "--help"], capture_output=True, text=True, cwd=REPO)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("print a bundle recipe as shell commands", run.stdout)


class Recipes(unittest.TestCase):
    def test_commands_fill_placeholders_and_overrides_win(self):
        lines = commands(validate(minimal()), {"DATA": "/my data"})
        self.assertEqual(lines, [f"/usr/bin/python3 -m {__package__} train --data '/my data' --holdout g1,g2"])

    def test_every_problem_is_named_with_a_stable_code(self):
        bad = minimal(steps=[{"stage": "tran", "args": ["--data", "{DATA}", "{NOPE}"]}, {"args": []}])
        with self.assertRaises(RecipeError) as e:
            validate(bad, "bad.json")
        self.assertTrue(str(e.exception).startswith("E_RECIPE_INVALID: bad.json: "))
        self.assertEqual(len(e.exception.problems), 3, e.exception.problems)
        self.assertIn("steps[0]: unknown stage 'tran'", e.exception.problems)
        self.assertIn("{NOPE} is used but not defined in inputs or values", e.exception.problems)

    def test_every_recipe_file_is_valid_and_named_by_its_version(self):
        paths = glob.glob(os.path.join(HERE, "recipes", "*.json"))
        self.assertTrue(paths)
        for path in paths:
            self.assertEqual(os.path.basename(path), load(path)["bundle"]["version"] + ".json")


class ShippedBundle(unittest.TestCase):
    """The manifest names its recipe, and the recipe's arguments are the ones the manifest recorded."""

    def setUp(self):
        with open(os.path.join(REPO, "models", "bundle", "manifest.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)
        self.recipe = load(os.path.join(REPO, self.manifest["recipe"]))

    def test_recipe_is_of_this_bundle(self):
        self.assertEqual(self.recipe["bundle"], {"id": self.manifest["id"], "version": self.manifest["version"]})

    def test_training_arguments_match_the_manifest(self):
        (train,) = stage_args(self.recipe, "train")
        arg = lambda name: train[train.index(name) + 1]
        self.assertEqual(arg("--holdout"), self.manifest["training"]["holdout_groups"])
        self.assertEqual(float(arg("--minutes")), self.manifest["training"]["minutes"])
        self.assertEqual(arg("--init"), self.manifest["training"]["init"])
        for export in stage_args(self.recipe, "export"):
            self.assertEqual(export[export.index("--version") + 1], self.manifest["version"])
            self.assertEqual(export[export.index("--recipe") + 1], self.manifest["recipe"])

    def test_operating_point_is_the_recipes(self):
        cal = self.manifest["calibration"]
        self.assertTrue(0 < cal["threshold"] < 1)
        self.assertEqual(self.manifest["metrics"]["operating_point"]["threshold"], cal["threshold"])
        steps = stage_args(self.recipe, "threshold")
        fpr = float(steps[-1][steps[-1].index("--fpr") + 1]) if steps else 0.05  # export's --threshold-fpr default
        self.assertEqual(cal["thresholdFpr"], fpr)

    def test_validation_exclusions_cover_the_manifests(self):
        export = stage_args(self.recipe, "export")[-1]
        globs = export[export.index("--val-exclude") + 1].split(",")
        for group in self.manifest["metrics"]["validation"]["excluded_groups"]:
            self.assertTrue(any(fnmatch(group, g) for g in globs), group)


if __name__ == "__main__":
    unittest.main()
