"""OpenFugu: an open reconstruction of an LLM orchestrator (TRINITY + Conductor).

The library knows nothing of DVC, params.yaml, claims or reports: stages pass values in.
"""

import os

# The environment of an offline run, defined once: the reduced profiles (stages/common.py), the test
# suite (tests/conftest.py) and tools/run_profile.py set it from here; the Makefile exports the same.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",                  # no model hub: every model is a local file
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm's bundled cost map, not a download at import
    "DVC_NO_ANALYTICS": "1",
    "TOKENIZERS_PARALLELISM": "false",       # no fork warnings (nor extra threads) from HF tokenizers
}
# Of those, the ones that cut off the model hub: the full profile leaves them to the user.
HUB_OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")

# litellm fetches its model cost map from the internet at import unless told otherwise;
# the project promises no network at import or run time, so the local copy is the default.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", OFFLINE_ENV["LITELLM_LOCAL_MODEL_COST_MAP"])

__version__ = "0.1.0"
