"""Runs another stage of this package in a child process (a fold's training frees its memory when it ends)."""
from __future__ import annotations

import os
import subprocess
import sys

# the repository root, so `-m models.train.STAGE` resolves whatever the caller's working directory is
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_stage(module: str, args: list[str]) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, "-m", f"{__package__}.{module}", *args], check=True, env=env)
