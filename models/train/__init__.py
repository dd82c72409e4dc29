"""The Veracity detector's training pipeline, one Python package (Debian's /usr/bin/python3, run from the repo root).

Every stage is one module and one entry point: `/usr/bin/python3 -m models.train STAGE [ARGS...]` (the table is
`stages.STAGES`; `python3 -m models.train` lists it). A shipped bundle's recipe, the stages and arguments that made it,
is `recipes/VERSION.json`, and the bundle's manifest names it (`recipe`). Modules import each other relatively, so
nothing here edits sys.path.
"""
