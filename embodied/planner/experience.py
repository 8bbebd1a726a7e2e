"""One planning attempt as stored in the experience memory (MINDSTORES' (state, task, plan, outcome) tuple)."""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from typing import Any


@dataclasses.dataclass
class Experience:
    task: str
    state: str  # text state when the attempt started
    plan: list[Any]  # executed steps: skill records (dicts with outcome) or bare skill strings (raw trajectories)
    outcome: str
    success: bool
    seed: int | None = None
    time: float = dataclasses.field(default_factory=time.time)
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)  # insights, steps, backend, ...
    uid: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    id: int | None = None  # row id once stored

    def embedding_text(self) -> str:
        return query_text(self.task, self.state)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("id")
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Experience":
        required = ("task", "state", "plan", "outcome", "success")
        missing = [k for k in required if k not in d]
        if missing:
            raise ValueError(f"experience record lacks {missing}: {json.dumps(d)[:200]}")
        known = {f.name for f in dataclasses.fields(cls)} - {"id"}
        return cls(**{k: v for k, v in d.items() if k in known})


def query_text(task: str, state: str) -> str:
    """What is embedded for retrieval: the task and the state it starts from."""
    return f"task: {task}\n{state}"
