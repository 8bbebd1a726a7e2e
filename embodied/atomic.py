"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one, even after a crash.

Every write goes to a temp file in the target's folder (so the rename stays on one file system), is flushed
and fsynced, then renamed over the target with ``os.replace``. The temp file keeps the target's suffix
(``.mp4``, ``.png``: some writers pick the format from it) and gets the permissions a plain ``open`` gives
(0666 less the umask). On any error it is removed and the target is left as it was.

- :func:`write_atomic` writes bytes, text, or whatever a function writes at a path (``torch.save``, a figure);
- :func:`open_atomic` is ``open`` for writing, for streaming writers (``torch.save(obj, f)``, CSV, JSON lines);
- :class:`AtomicFile` is the temp file itself, for writers that live across calls (a video encoder).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class AtomicFile:
    """A new temp file beside ``path``; :meth:`commit` moves it over ``path``, :meth:`discard` removes it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            tmp = self.path.parent / f".{self.path.stem}.{uuid.uuid4().hex[:12]}.tmp{self.path.suffix}"
            try:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            except FileExistsError:
                continue
            break
        self.tmp = tmp

    def commit(self) -> Path:
        """fsync the temp file and rename it over the target; returns the target."""
        fd = os.open(self.tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, content: bytes | str | Callable[[Path], Any]) -> Path:
    """Write ``content`` to ``path`` atomically; returns ``path``.

    ``content`` is bytes, text (UTF-8), or a function that writes the file at the path it is given.
    """
    file = AtomicFile(path)
    try:
        if callable(content):
            content(file.tmp)
        elif isinstance(content, (bytes, bytearray, memoryview)):
            file.tmp.write_bytes(content)
        elif isinstance(content, str):
            file.tmp.write_text(content, encoding="utf-8")
        else:
            raise TypeError(f"write_atomic({file.path}): content is {type(content).__name__}, expected bytes, "
                            "str or a function of the path")
        return file.commit()
    except BaseException:
        file.discard()
        raise


@contextmanager
def open_atomic(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """``open(path, mode)`` for writing (``w``, ``wb``, ``w`` with ``newline=...``); the file appears at
    ``path`` only when the block ends without an exception."""
    if not mode.startswith("w"):
        raise ValueError(f"open_atomic: mode {mode!r} is not a write mode (w, wb)")
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    file = AtomicFile(path)
    try:
        with open(file.tmp, mode, **kwargs) as f:
            yield f
            f.flush()
        file.commit()
    except BaseException:
        file.discard()
        raise
