"""Where the pipeline writes what the ``fugu`` command reads by default, relative to the project root.

``stages/paths.py`` builds the stages' paths on these (the library never imports the pipeline),
so ``fugu serve``, ``fugu route`` and ``fugu audit`` look exactly where the stages write.
"""

SELF_TEST_SPEC = "artifacts/self_test/trinity.json"        # the planted coordinator: `fugu route` reads it
TRAINED_SPEC = "artifacts/train_trinity/trinity.json"      # the trained coordinator: `fugu serve --router trinity`
CONDUCTOR_POLICY_DIR = "artifacts/train_conductor/policy"  # the Conductor: `fugu serve --mode ultra`, `fugu route --ultra`
VERDICTS = "reports/verdicts.json"                         # the report stage's verdicts: `fugu audit` counts them
REPORT_HTML = "reports/audit.html"                         # the audit report `fugu audit` points at
PARAMS_FILE = "params.yaml"                                 # the knobs: `fugu data add` writes a file's format entry
PROVENANCE_FILE = "configs/provenance.yaml"                # sources and prices: `fugu data add` writes a model's price
ROUTING_DATA_DIR = "data/routing"                          # the recorded outcomes: `fugu data add` copies a file in
