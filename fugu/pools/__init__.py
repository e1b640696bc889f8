"""Worker pools behind one interface: a pool lists its workers and answers a conversation.

- ``ReplayPool`` (``fugu.pools.replay``): real models' recorded outcomes, played back.
- ``SimulatedPool`` (``fugu.pools.simulated``): a seeded skill matrix — a MOCK, labelled so.
"""

from fugu.pools.base import Pool, PoolError, Reply, Worker, answer_sync

__all__ = ["Pool", "PoolError", "Reply", "Worker", "answer_sync"]
