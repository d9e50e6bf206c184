"""Compiled ZSSR networks kept between runs in this process, handed out reset to a start.

Building a network, tracing its training step and its first forward passes is a noticeable part
of a short run; kept here, the next image of a folder or a benchmark starts with all of that
done. A run takes a network with :func:`acquire` and gives it back with :func:`release`, so
concurrent runs never share one. Every take resets the network completely (weights set, every
optimiser variable zeroed, the step count included), so a reused network trains exactly as a
new one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from .network import build_network, compile_network, precision_of, resolve_precision

__all__ = ["NetworkPool", "POOL", "acquire", "release", "clear_network_pool"]


class NetworkPool:
    """Free compiled networks by key, and the random starting weights by initialiser key.

    Parameters
    ----------
    per_key : int
        Networks kept per key (channels, depth, width, precision).
    init_cache : int
        Sets of random starting weights kept, the oldest dropped first.
    """

    def __init__(self, per_key: int = 2, init_cache: int = 8) -> None:
        self._free: dict[tuple, list] = {}
        self._initial: OrderedDict[tuple, list] = OrderedDict()
        self._per_key, self._init_cache = per_key, init_cache
        self._lock = threading.Lock()

    def take(self, key: tuple):
        """A free network of ``key``, or ``None``."""
        with self._lock:
            free = self._free.get(key)
            return free.pop() if free else None

    def give(self, key: tuple, model) -> None:
        """Keep ``model`` for a later :meth:`take` of ``key`` (unless ``per_key`` are kept)."""
        with self._lock:
            free = self._free.setdefault(key, [])
            if len(free) < self._per_key and all(m is not model for m in free):
                free.append(model)

    def free(self, key: tuple) -> int:
        """How many networks of ``key`` are free."""
        with self._lock:
            return len(self._free.get(key, ()))

    def initial_weights(self, key: tuple) -> list | None:
        """The random starting weights remembered for the initialiser ``key``, or ``None``."""
        with self._lock:
            return self._initial.get(key)

    def remember_initial(self, key: tuple, weights: list) -> None:
        """Remember random starting weights for the initialiser ``key``."""
        with self._lock:
            self._initial[key] = weights
            while len(self._initial) > self._init_cache:
                self._initial.popitem(last=False)

    def clear(self) -> None:
        """Drop every kept network and starting weights."""
        with self._lock:
            self._free.clear()
            self._initial.clear()


#: The process's pool, used by :func:`acquire` and :func:`release`.
POOL = NetworkPool()


def clear_network_pool() -> None:
    """Drop the compiled networks kept for reuse between runs (frees their memory)."""
    POOL.clear()


def pool_key(channels: int, depth: int, width: int, precision: str) -> tuple:
    """The key of a network in :data:`POOL`."""
    return (channels, depth, width, resolve_precision(precision))


def acquire(channels: int, *, depth: int, width: int, init_variance: float, seed: int,
            precision: str, learning_rate: float, weights: list | None = None):
    """A compiled network at its starting weights, from :data:`POOL` when one fits.

    The start is ``weights`` if given, else the seeded random initialisation of
    :func:`~zssr.network.build_network`. The optimiser's variables are zero and its rate is
    ``learning_rate``, so the network trains exactly as a new one.
    """
    init_key = (channels, depth, width, init_variance, seed)
    net = POOL.take(pool_key(channels, depth, width, precision))
    if net is None:
        net = build_network(channels, depth=depth, width=width, init_variance=init_variance,
                            seed=seed, precision=precision)
        if POOL.initial_weights(init_key) is None:
            POOL.remember_initial(init_key, net.get_weights())
        net = compile_network(net, learning_rate)
        random_start_in_place = True
    else:
        for variable in net.optimizer.variables:  # moments, step count (and the rate)
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        random_start_in_place = False
    if weights is not None:
        net.set_weights(weights)
    elif not random_start_in_place:
        initial = POOL.initial_weights(init_key)
        if initial is None:
            initial = build_network(channels, depth=depth, width=width,
                                    init_variance=init_variance, seed=seed).get_weights()
            POOL.remember_initial(init_key, initial)
        net.set_weights(initial)
    net.optimizer.learning_rate.assign(learning_rate)
    return net


def release(model, *, depth: int, width: int) -> None:
    """Give ``model`` (from :func:`acquire` with this ``depth`` and ``width``) back."""
    POOL.give(pool_key(model.inputs[0].shape[-1], depth, width, precision_of(model)), model)
