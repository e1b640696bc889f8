"""The serving knobs, in one frozen dataclass: ``fugu serve``'s flags take their defaults from here.

Kept apart from the app so that building the command line (``fugu --help``) needs none of the
server's imports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeConfig:
    """Every serving knob, with its default; ``fugu serve``'s flags take their defaults from here."""
    served_model: str = "fugu-mini"      # the routing mode's model name
    ultra_model: str = "fugu-ultra"      # the Conductor mode's model name (listed when a Conductor is loaded)
    api_key: str | None = None           # bearer token; None = no auth ("" is refused: it is not "off")
    request_timeout_s: float = 60.0      # whole request, all attempts (a stream: until its first piece)
    worker_timeout_s: float = 30.0       # one worker attempt; a stream: the longest gap between pieces
    router_timeout_s: float = 10.0       # the router's own deadline; past it → fallback order
    router_concurrency: int = 2          # router passes at once (long ones apart); none free in time → fallback order
    router_long_tokens: int = 512        # a pass reading more tokens is long: it runs in the long lane
    router_long_concurrency: int = 1     # long passes at once, apart from the others (small never wait behind long)
    router_max_batch: int = 16           # queued router requests scored in one pass (1 = a pass per request)
    router_batch_wait_ms: float = 2.0    # under load, how long a batch waits for latecomers (a lone request: never)
    body_timeout_s: float = 10.0         # the whole body must arrive within this → else 408
    max_attempts: int = 3                # workers tried per request, best-first
    max_concurrency: int = 64            # requests in flight; beyond it → 429
    retry_after_s: int = 1               # the Retry-After a 429 carries
    max_body_bytes: int = 1_000_000      # larger bodies → 413
    max_tokens_limit: int = 32_768       # larger max_tokens → 400
    expose_worker: bool = False          # debug only: name the worker in an X-Fugu-Worker header
    ultra_max_steps: int = 4             # ultra mode: the most steps a workflow may have
    ultra_time_budget_s: float = 30.0    # ultra mode: one workflow run, all steps
    conductor_timeout_s: float = 10.0    # ultra mode: the Conductor's deadline to write a plan; past it → routing
    conductor_concurrency: int = 2       # ultra mode: plans generated at once; none free → routing at once
    conductor_max_tokens: int = 1024     # ultra mode: the Conductor reads at most this many tokens (a question's end)
    fallback_order: tuple[str, ...] = () # when the router cannot decide; () = the pool's order
    # connections (fugu.serving.connections): a cap within ulimit -n, and deadlines uvicorn lacks
    max_connections: int = 512           # open connections; beyond it → 503 and close
    header_timeout_s: float = 10.0       # a request head must arrive within this → else 408 and close
    keep_alive_timeout_s: float = 75.0   # an idle kept-alive connection closes after this

    def __post_init__(self) -> None:
        for name in ("request_timeout_s", "worker_timeout_s", "router_timeout_s", "router_concurrency",
                     "body_timeout_s", "max_attempts", "max_concurrency", "retry_after_s", "max_body_bytes",
                     "max_tokens_limit", "ultra_max_steps", "ultra_time_budget_s", "router_long_tokens",
                     "router_long_concurrency", "conductor_timeout_s", "conductor_concurrency",
                     "conductor_max_tokens", "max_connections", "header_timeout_s", "keep_alive_timeout_s",
                     "router_max_batch"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServeConfig.{name} must be positive, got {getattr(self, name)!r}")
        if self.router_batch_wait_ms < 0:
            raise ValueError(f"ServeConfig.router_batch_wait_ms must be >= 0, got {self.router_batch_wait_ms!r}")
        if self.api_key is not None and not self.api_key.strip():
            raise ValueError("ServeConfig.api_key is empty: an empty key would not protect anything; "
                             "give a key, or None for no auth")
        if self.served_model == self.ultra_model:
            raise ValueError(f"served_model and ultra_model must differ, both are {self.served_model!r}")
