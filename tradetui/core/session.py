"""Provides Session: one run of the engine on a data dir (its lock, its store) and whether the run
before it ended with a clean stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tradetui.core.api import EngineError
from tradetui.core.instance_lock import InstanceLock, InstanceLockError
from tradetui.core.schema import Key
from tradetui.core.store import Store, StoreError
from tradetui.paths import DataPaths

RUNNING, CLEAN = "running", "clean"
"""The ``session`` key while an engine runs, and after it stopped cleanly."""


class Session:
    """Holds the data dir's lock and its open store for as long as the engine runs."""

    def __init__(self, paths: DataPaths, store: Store) -> None:
        self._paths = paths
        self._store = store
        self._lock = InstanceLock(paths.root)
        self.open = False
        """True from a successful ``begin`` to ``end``."""
        self._previous: str | None = None

    async def begin(self) -> bool:
        """Take the lock, open the store and mark the session running; returns True when the
        previous session never reached a clean stop (it crashed). Raises EngineError."""
        self._paths.ensure()
        try:
            self._lock.acquire()
        except InstanceLockError as exc:
            raise EngineError(str(exc)) from None
        try:
            await self._store.open()
        except StoreError as exc:
            self._lock.release()
            raise EngineError(str(exc)) from None
        self.open = True
        # "running" left behind means the last session never reached its end: it crashed.
        self._previous = await self._store.get_value(Key.SESSION)
        await self._store.put_value(Key.SESSION, RUNNING)
        return self._previous == RUNNING

    async def end(self, save: Callable[[], Awaitable[None]], started: bool) -> None:
        """Run ``save``, close the store, then release the lock (also after a failed ``begin``).
        The session is marked clean only when the engine had ``started``: a failed start leaves
        the marker as it found it, so a crash before it is still seen as one."""
        if self.open:
            try:
                await save()
                marker = CLEAN if started else (self._previous or CLEAN)
                await self._store.put_value(Key.SESSION, marker)
            finally:
                await self._store.close()
                self.open = False
        # Released last, after the store is closed.
        self._lock.release()
