"""`/usr/bin/python3 -m models.train STAGE [ARGS...]`: runs one stage of the pipeline (see stages.STAGES)."""
from __future__ import annotations

import runpy
import sys

from .stages import STAGES


def usage() -> str:
    width = max(map(len, STAGES))
    rows = "\n".join(f"  {name.ljust(width)}  {what}" for name, (_, what) in STAGES.items())
    return f"usage: python3 -m {__package__} STAGE [ARGS...]   (STAGE --help for its options)\n\nstages:\n{rows}\n"


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(usage())
        return 0 if len(sys.argv) >= 2 else 2
    stage = sys.argv[1]
    if stage not in STAGES:
        sys.stderr.write(f"unknown stage {stage!r}\n\n{usage()}")
        return 2
    module = f"{__package__}.{STAGES[stage][0]}"
    sys.argv = [f"{sys.argv[0]} {stage}", *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
