"""The claims registry: one YAML record per published claim (``claims/<id>.yaml``).

verify/ and reports/ both read these records through :func:`load_claims`, so the list of
claims and what each asserts live in exactly one place.
"""

from claims.registry import (
                             CLAIMS_DIR,
                             NOT_HELD_OUT,
                             Assertion,
                             Check,
                             Claim,
                             ClaimError,
                             Effect,
                             Evidence,
                             Mechanism,
                             MetricRef,
                             ReducedCheck,
                             load_claim,
                             load_claims,
                             record_digest,
)

__all__ = ["CLAIMS_DIR", "NOT_HELD_OUT", "Assertion", "Check", "Claim", "ClaimError", "Effect", "Evidence", "Mechanism", "MetricRef", "ReducedCheck",
           "load_claim", "load_claims", "record_digest"]
