"""Maintainer tools around the pipeline: run it in a fresh copy on another profile or numeric path,
measure the verdicts' cross-CPU jitter, and write the committed verdict tables. Nothing here is a
DVC stage; each writes only under ``results/``."""
