"""A shipped bundle's recipe: the stages, arguments and data that made it, as one versioned JSON file.

  /usr/bin/python3 -m models.train recipe models/train/recipes/1.7.0.json [--set NAME=VALUE ...]

prints the recipe as the shell commands that rebuild the bundle (inputs first), with {NAME} placeholders filled from
the recipe's `inputs` (their default paths) and `values`, or from --set. The bundle's manifest.json names its recipe
(`recipe`), so a bundle's lineage no longer depends on git-ignored runs/. Format (schema `recipe: 1`):

  bundle   {id, version}: the manifest this recipe made
  parent   {version, commit}: the bundle it was fine-tuned from (git commit holding it), when there is one
  inputs   NAME -> {path, what, make?}: folders the stages read; `make` is the command that builds one
  values   NAME -> string: long arguments (group lists) named once
  steps    [{stage, args} | {run}]: a pipeline stage (python3 -m models.train STAGE ARGS) or another command
  unrecorded [string]: what the record of this bundle does not say, so a rebuild knows where it may differ
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import sys

from .stages import STAGES

SCHEMA = 1
PYTHON = "/usr/bin/python3"
PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


class RecipeError(ValueError):
    """A recipe that cannot be used; `code` is stable, `problems` lists every fault found, not just the first."""

    code = "E_RECIPE_INVALID"

    def __init__(self, path: str, problems: list[str]):
        super().__init__(f"{self.code}: {path}: " + "; ".join(problems))
        self.problems = problems


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def validate(recipe, path: str = "recipe") -> dict:
    """Returns the recipe if it is well formed, else raises RecipeError naming every problem."""
    problems: list[str] = []
    if not isinstance(recipe, dict):
        raise RecipeError(path, ["must be a JSON object"])
    if recipe.get("recipe") != SCHEMA:
        problems.append(f"recipe must be {SCHEMA}")
    bundle = recipe.get("bundle")
    if not (isinstance(bundle, dict) and all(isinstance(bundle.get(k), str) and bundle[k] for k in ("id", "version"))):
        problems.append("bundle must have string id and version")
    inputs, values = recipe.get("inputs", {}), recipe.get("values", {})
    if not (isinstance(inputs, dict) and all(isinstance(v, dict) and isinstance(v.get("path"), str) for v in inputs.values())):
        problems.append("inputs must map NAME to {path, ...}")
        inputs = {}
    if not (isinstance(values, dict) and all(isinstance(v, str) for v in values.values())):
        problems.append("values must map NAME to a string")
        values = {}
    known = set(inputs) | set(values)
    steps = recipe.get("steps")
    if not (isinstance(steps, list) and steps):
        problems.append("steps must be a non-empty list")
        steps = []
    texts: list[str] = [v.get("make", "") for v in inputs.values()] + list(values.values())
    for i, step in enumerate(steps):
        where = f"steps[{i}]"
        if isinstance(step, dict) and "stage" in step and "run" not in step:
            if step["stage"] not in STAGES:
                problems.append(f"{where}: unknown stage {step['stage']!r}")
            if not _strings(step.get("args", [])):
                problems.append(f"{where}: args must be a list of strings")
            else:
                texts += step.get("args", [])
        elif isinstance(step, dict) and isinstance(step.get("run"), str) and "stage" not in step:
            texts.append(step["run"])
        else:
            problems.append(f"{where}: needs either stage (+ args) or run")
    for name in sorted({m for t in texts if isinstance(t, str) for m in PLACEHOLDER.findall(t)} - known):
        problems.append(f"{{{name}}} is used but not defined in inputs or values")
    if problems:
        raise RecipeError(path, problems)
    return recipe


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            recipe = json.load(f)
    except (OSError, ValueError) as e:
        raise RecipeError(path, [f"cannot read: {e}"]) from e
    return validate(recipe, path)


def fill(text: str, names: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: names[m.group(1)], text)


def names_of(recipe: dict, overrides: dict[str, str] | None = None) -> dict[str, str]:
    names = {k: v["path"] for k, v in recipe.get("inputs", {}).items()}
    names.update(recipe.get("values", {}))
    names.update(overrides or {})
    return names


def stage_args(recipe: dict, stage: str, overrides: dict[str, str] | None = None) -> list[list[str]]:
    """The filled argument lists of every step that runs STAGE."""
    names = names_of(recipe, overrides)
    return [[fill(a, names) for a in s.get("args", [])] for s in recipe["steps"] if s.get("stage") == stage]


def commands(recipe: dict, overrides: dict[str, str] | None = None) -> list[str]:
    """The recipe as shell lines: the commands that make its inputs, then its steps."""
    names = names_of(recipe, overrides)
    lines = [fill(v["make"], names) for k, v in recipe.get("inputs", {}).items() if v.get("make") and k not in (overrides or {})]
    for step in recipe["steps"]:
        if "stage" in step:
            args = [fill(a, names) for a in step.get("args", [])]
            lines.append(shlex.join([PYTHON, "-m", __package__, step["stage"], *args]))
        else:
            lines.append(fill(step["run"], names))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description="print a bundle recipe as shell commands")
    ap.add_argument("path", help="e.g. models/train/recipes/1.7.0.json")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override an input path or value")
    a = ap.parse_args()
    overrides = {}
    for kv in a.set:
        name, sep, value = kv.partition("=")
        if not sep:
            ap.error(f"--set wants NAME=VALUE, got {kv!r}")
        overrides[name] = value
    try:
        recipe = load(a.path)
    except RecipeError as e:
        sys.exit(str(e))
    print(f"# {recipe['bundle']['id']} {recipe['bundle']['version']}: {recipe.get('summary', '')}")
    for note in recipe.get("unrecorded", []):
        print(f"# not recorded: {note}")
    print("\n".join(commands(recipe, overrides)))


if __name__ == "__main__":
    main()
