"""The Conductor (Fugu-Ultra): a model writes a workflow DAG over the worker pool; it is run.

- ``schema``     the workflow (steps, worker index, sub-instruction, access list) and its validation
- ``parser``     model output → workflow, lenient about wrapping, strict about meaning
- ``executor``   runs ready steps concurrently over any pool, with retries, a budget and a trace
- ``prompts``    what the Conductor reads (round 0, and a revision round)
- ``recursion``  round r+1 revises round r; round comparison for eval; the toy voting policy (mock)
- ``task``       the tiny profile's offline task over the simulated pool (mock)
- ``ultra``      a trained policy plans (and optionally runs) a workflow for one query
"""
