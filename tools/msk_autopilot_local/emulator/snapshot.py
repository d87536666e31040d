"""Everything moto holds, copied once and put back as often as needed.

Tests and `local-aws` bring an account back to "the stack just deployed, nothing else" hundreds
of times a run. Deploying through moto's CloudFormation costs about a second each time; putting
back a copy of the backends taken right after one deploy costs a few tens of milliseconds and
yields the same objects. One deep copy covers every service, so what services share (a stack's
resources are the Lambda, IAM, SQS... backends' own objects) stays shared in each copy.
"""

from __future__ import annotations

import contextlib
import copy
import copyreg
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from moto.core.base_backend import BackendDict

__all__ = ["MotoSnapshot"]

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _copy_weak_values(values: weakref.WeakValueDictionary[Any, Any], memo: dict[int, Any]) -> Any:
    # The standard library's copy keeps the original values: the copy of moto's Lambda backend
    # would then index the snapshot's functions instead of its own.
    return weakref.WeakValueDictionary(
        {copy.deepcopy(key, memo): copy.deepcopy(value, memo) for key, value in values.items()}
    )


@contextlib.contextmanager
def _copyable_backends() -> Iterator[None]:
    """Locks are copied as new locks, weak values as copies, while the block runs."""
    dispatch: dict[type, Any] = copy._deepcopy_dispatch  # type: ignore[attr-defined]
    for lock_type in _LOCK_TYPES:
        copyreg.dispatch_table[lock_type] = lambda lock: (type(lock), ())
    dispatch[weakref.WeakValueDictionary] = _copy_weak_values
    try:
        yield
    finally:
        for lock_type in _LOCK_TYPES:
            del copyreg.dispatch_table[lock_type]
        del dispatch[weakref.WeakValueDictionary]


def _copied(backends: list[tuple[BackendDict[Any], dict[str, Any]]]) -> Any:
    # The BackendDicts themselves are moto's registries, never copied.
    memo: dict[int, Any] = {id(registry): registry for registry, _ in backends}
    with _copyable_backends():
        return copy.deepcopy(backends, memo)


class MotoSnapshot:
    """moto's state at one moment, in this process."""

    def __init__(self, backends: list[tuple[BackendDict[Any], dict[str, Any]]]) -> None:
        self._backends = backends

    @classmethod
    def take(cls) -> MotoSnapshot:
        in_use: list[BackendDict[Any]] = BackendDict._instances  # type: ignore[misc]
        return cls(_copied([(registry, dict(registry)) for registry in in_use]))

    def restore(self) -> None:
        """Every moto service as it was when the snapshot was taken (a fresh copy each time:
        what one user of the account changes never reaches the next)."""
        BackendDict.reset()
        in_use: list[BackendDict[Any]] = BackendDict._instances  # type: ignore[misc]
        for registry, accounts in _copied(self._backends):
            registry.update(accounts)
            in_use.append(registry)
