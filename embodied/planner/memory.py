"""Persistent experience memory: one SQLite file in WAL mode plus a brute-force cosine index in NumPy.

Every process opens its own connection; each insert is one ``BEGIN IMMEDIATE`` transaction, so many
processes may write at once (SQLite serialises them; ``busy_timeout`` makes writers wait, not fail).
Readers pick up rows written by others on the next search (the index grows by ``id > last seen``).
An embedding is tied to the embedder that made it: the database records the embedder's name and
dimension and refuses to mix them.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from embodied.atomic import open_atomic
from embodied.planner.embedders import Embedder
from embodied.planner.experience import Experience, query_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT UNIQUE NOT NULL,
    task TEXT NOT NULL,
    state TEXT NOT NULL,
    plan TEXT NOT NULL,
    outcome TEXT NOT NULL,
    success INTEGER NOT NULL,
    seed INTEGER,
    time REAL NOT NULL,
    metadata TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS experiences_task ON experiences (task, success);
"""
_COLUMNS = "id, uid, task, state, plan, outcome, success, seed, time, metadata"


class MemoryDBError(RuntimeError):
    """The database cannot be used as asked (wrong embedder, not a memory file, ...)."""


class ExperienceMemory:
    """Experiences in SQLite with top-k cosine retrieval filtered by task and success."""

    def __init__(self, path: str | os.PathLike, embedder: Embedder | None, timeout: float = 60.0):
        """``embedder=None`` opens an existing database for reading rows only (no add, no search)."""
        self.path = Path(path)
        self.embedder = embedder
        if embedder is None and not self.path.is_file():
            raise MemoryDBError(f"no experience database at {self.path}")
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise MemoryDBError(f"{self.path} is not a usable experience database: {e}") from None
        if embedder is not None:
            self._check_embedder()
        self._ids = np.zeros(0, np.int64)
        self._vecs = np.zeros((0, embedder.dim if embedder else 0), np.float32)
        self._tasks: list[str] = []
        self._success = np.zeros(0, bool)

    def _check_embedder(self) -> None:
        want = {"embedder": self.embedder.name, "dim": str(self.embedder.dim)}
        self._db.execute("BEGIN IMMEDIATE")
        try:
            have = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if not have:
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", want.items())
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if have and (have.get("embedder"), have.get("dim")) != (want["embedder"], want["dim"]):
            raise MemoryDBError(f"{self.path} holds embeddings of {have.get('embedder')} (dim {have.get('dim')}); "
                               f"this run embeds with {want['embedder']} (dim {want['dim']}): set the same "
                               f"embedder, or export and import into a new database to re-embed")

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            raise MemoryDBError(f"{self.path} was opened without an embedder: it can be read, not searched or added to")
        return self.embedder

    def recorded_embedder(self) -> str | None:
        """Name of the embedder whose vectors the database holds (None while empty and unclaimed)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ExperienceMemory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------------------------
    def add(self, experiences: Iterable[Experience]) -> list[int]:
        """Store experiences (embedding them first); returns their row ids. Rows with a known uid are skipped."""
        exps = list(experiences)
        if not exps:
            return []
        vecs = self._embedder().embed([e.embedding_text() for e in exps])
        ids = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for e, v in zip(exps, vecs):
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO experiences (uid, task, state, plan, outcome, success, seed, time, "
                    "metadata, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (e.uid, e.task, e.state, json.dumps(e.plan), e.outcome, int(bool(e.success)), e.seed, e.time,
                     json.dumps(e.metadata), v.astype(np.float32).tobytes()))
                e.id = cur.lastrowid if cur.rowcount else None
                ids.append(e.id)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return ids

    # --- reading ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM experiences").fetchone()[0]

    def _refresh(self) -> None:
        last = int(self._ids[-1]) if len(self._ids) else 0
        rows = self._db.execute("SELECT id, task, success, embedding FROM experiences WHERE id > ? ORDER BY id",
                                (last,)).fetchall()
        if not rows:
            return
        self._ids = np.concatenate([self._ids, np.array([r[0] for r in rows], np.int64)])
        self._tasks += [r[1] for r in rows]
        self._success = np.concatenate([self._success, np.array([bool(r[2]) for r in rows])])
        self._vecs = np.concatenate([self._vecs, np.stack([np.frombuffer(r[3], np.float32) for r in rows])])

    def search(self, query: str, k: int = 5, task: str | None = None, success: bool | None = None,
               ) -> list[tuple[float, Experience]]:
        """Top-``k`` experiences by cosine similarity to ``query`` (highest first; ties: older first)."""
        return self.search_vector(self._embedder().embed([query])[0], k, task, success)

    def search_state(self, task: str, state: str, k: int = 5, **filters) -> list[tuple[float, Experience]]:
        return self.search(query_text(task, state), k, **filters)

    def search_vector(self, vec: np.ndarray, k: int, task: str | None = None, success: bool | None = None,
                      ) -> list[tuple[float, Experience]]:
        self._embedder()
        self._refresh()
        if k <= 0 or not len(self._ids):
            return []
        mask = np.ones(len(self._ids), bool)
        if task is not None:
            mask &= np.array([t == task for t in self._tasks])
        if success is not None:
            mask &= self._success == bool(success)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return []
        scores = self._vecs[idx] @ np.asarray(vec, np.float32)
        order = np.lexsort((self._ids[idx], -scores))[:k]
        exps = {e.id: e for e in self.get([int(self._ids[idx[o]]) for o in order])}
        return [(float(scores[o]), exps[int(self._ids[idx[o]])]) for o in order]

    def get(self, ids: list[int]) -> list[Experience]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM experiences WHERE id IN ({marks})", ids).fetchall()
        by_id = {r[0]: _row(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def iter(self, task: str | None = None, batch: int = 500) -> Iterator[Experience]:
        last = 0
        while True:
            sql = f"SELECT {_COLUMNS} FROM experiences WHERE id > ?" + (" AND task = ?" if task else "")
            rows = self._db.execute(sql + " ORDER BY id LIMIT ?", (last, task, batch) if task else (last, batch))
            rows = rows.fetchall()
            if not rows:
                return
            yield from (_row(r) for r in rows)
            last = rows[-1][0]

    def stats(self) -> dict:
        rows = self._db.execute("SELECT task, COUNT(*), SUM(success) FROM experiences GROUP BY task ORDER BY task")
        tasks = {t: {"attempts": n, "successes": int(s or 0)} for t, n, s in rows.fetchall()}
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        return {"path": str(self.path), "experiences": len(self), "embedder": meta.get("embedder"),
                "dim": int(meta.get("dim", 0)), "tasks": tasks}

    # --- exchange -----------------------------------------------------------------------------------
    def export_jsonl(self, path: str | os.PathLike, task: str | None = None) -> int:
        """Write every experience (without embeddings) as JSON lines; atomic (temp file + rename)."""
        n = 0
        with open_atomic(path, "w") as f:
            for e in self.iter(task):
                f.write(json.dumps(e.to_json()) + "\n")
                n += 1
        return n

    def import_jsonl(self, path: str | os.PathLike, batch: int = 256) -> tuple[int, int]:
        """Add the experiences of a JSONL export (re-embedded here); returns (added, already present)."""
        added = skipped = 0
        pending: list[Experience] = []

        def flush():
            nonlocal added, skipped
            ids = self.add(pending)
            added += sum(i is not None for i in ids)
            skipped += sum(i is None for i in ids)
            pending.clear()

        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    pending.append(Experience.from_json(json.loads(line)))
                except (json.JSONDecodeError, ValueError, TypeError) as e:
                    raise MemoryDBError(f"{path}:{lineno}: not an experience record: {e}") from None
                if len(pending) >= batch:
                    flush()
        flush()
        return added, skipped


def _row(r) -> Experience:
    return Experience(id=r[0], uid=r[1], task=r[2], state=r[3], plan=json.loads(r[4]), outcome=r[5],
                      success=bool(r[6]), seed=r[7], time=r[8], metadata=json.loads(r[9]))
