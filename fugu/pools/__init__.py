"""Worker pools behind one interface: a pool lists its workers and answers a conversation."""

from fugu.pools.base import Message, Pool, PoolError, Reply, Worker

__all__ = ["Message", "Pool", "PoolError", "Reply", "Worker"]
