"""OpenFugu: an open reconstruction of an LLM orchestrator (TRINITY + Conductor).

The library knows nothing of DVC, params.yaml, claims or reports: stages pass values in.
"""

import os

# litellm fetches its model cost map from the internet at import unless told otherwise;
# the project promises no network at import or run time, so the local copy is the default.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"
