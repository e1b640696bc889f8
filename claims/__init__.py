"""The claims registry: one YAML record per published claim (``claims/<id>.yaml``).

verify/ and reports/ both read these records through :func:`load_claims`, so the list of
claims and what each asserts live in exactly one place.
"""

from claims.registry import (
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
)

__all__ = ["NOT_HELD_OUT", "Assertion", "Check", "Claim", "ClaimError", "Effect", "Evidence", "Mechanism", "MetricRef", "ReducedCheck",
           "load_claim", "load_claims"]
