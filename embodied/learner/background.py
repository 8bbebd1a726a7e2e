"""One update at a time in a background thread, for updates beside acting (``trainer.overlap_updates``).

The thread runs at the lowest CPU priority: on a small machine the collection (acting and the env workers)
keeps its cores and the update takes the time they leave idle, instead of both slowing each other down.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any


def _lowest_priority() -> None:
    """Nice 19 for the calling thread (Linux schedules threads by their own nice value; elsewhere: unchanged)."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:  # a sandbox that forbids it: the update still runs, at normal priority
            pass


class BackgroundUpdate:
    """Runs ``work`` in a thread; :meth:`wait` returns its result or raises its error in the caller's thread."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._outcome: tuple[Any, BaseException | None] = (None, None)
        self.tag: Any = None  # what the caller needs to know about the running update once it is done

    @property
    def running(self) -> bool:
        """Started and not yet waited for (it may have finished)."""
        return self._thread is not None

    @property
    def busy(self) -> bool:
        """Still computing: :meth:`wait` would block."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, work: Callable[[], Any], tag: Any = None) -> None:
        if self._thread is not None:
            raise RuntimeError("an update is already running in the background: wait() for it first")

        def run() -> None:
            _lowest_priority()
            try:
                self._outcome = (work(), None)
            except BaseException as e:  # noqa: BLE001 -- handed to the thread that waits
                self._outcome = (None, e)

        self.tag = tag
        self._thread = threading.Thread(target=run, name="embodied-update", daemon=True)
        self._thread.start()

    def wait(self) -> Any:
        """Block until the update is done; its result (None if none was running), or its error raised here."""
        if self._thread is None:
            return None
        self._thread.join()
        (result, error), self._outcome, self._thread = self._outcome, (None, None), None
        if error is not None:
            raise error
        return result


def overlap_updates(setting: Any, trained_encoder: bool) -> bool:
    """``trainer.overlap_updates`` as a bool. ``auto`` overlaps unless the policy trains its visual encoder: then acting
    and the updates both run the CNN, no core idles during collection, and acting on one thread costs more than the
    overlap gains (x0.78 in-process at 32 px; with ``encoder_grad=acted`` x1.08 at 32 px, x0.83 at 64 px;
    benchmarks/reports/training_speed.md, "Updates beside acting")."""
    if setting == "auto":
        return not trained_encoder
    return bool(setting)


def overlap_planned(cfg: Mapping[str, Any]) -> bool:
    """What :func:`overlap_updates` will decide, read from the config before the policy exists (the env workers'
    double buffer depends on it): a policy config whose visual encoder is not frozen counts as training it."""
    encoder = cfg["policy"].get("encoder")
    trained = encoder is not None and not encoder.get("frozen", False)
    return overlap_updates(cfg["trainer"]["overlap_updates"], trained)
