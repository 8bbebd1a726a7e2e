"""What a planner can learn from executed skill records: sources of items, what calls consume, what they
require (from failure reasons), and which call fixed a failure. Nothing here is prior knowledge of Crafter:
every fact comes from a record of a call and its observed outcome.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_NEED = re.compile(r"^need (\d+) (\w+)$")
_NEAR = re.compile(r"^no (\w+) nearby$")
IGNORED = {"health"}
_MOVES = ("go_to(", "explore(", "flee(")  # drifts on its own; never evidence of what a call does


def reason_key(reason: str) -> str:
    """A failure reason with its numbers removed, so that fixes generalise across step limits."""
    return re.sub(r"\d+", "N", reason)


class Knowledge:
    def __init__(self):
        self.sources: dict[str, Counter] = defaultdict(Counter)  # item -> calls that raised it
        self.gain: dict[tuple[str, str], int] = {}  # (call, item) -> largest gain seen
        self.uses: dict[str, dict[str, int]] = {}  # call -> items it consumed
        self.needs: dict[str, dict[str, int]] = defaultdict(dict)  # call -> items it reported missing
        self.near: dict[str, set[str]] = defaultdict(set)  # call -> things that must be nearby
        self.fixes: dict[str, Counter] = defaultdict(Counter)  # reason key -> calls that resolved it
        self.tried: dict[str, int] = Counter()  # call -> successful executions seen
        self.failed: dict[str, Counter] = defaultdict(Counter)  # call -> reason keys

    def learn(self, records: Iterable) -> "Knowledge":
        """Add the evidence of one attempt's records (dicts from the executor; bare strings are skipped)."""
        records = [r for r in records if isinstance(r, dict) and "ok" in r and "skill" in r]
        for i, r in enumerate(records):
            call, delta = r["skill"], r.get("delta") or {}
            if r["ok"]:
                self.tried[call] += 1
                moving = call.startswith(_MOVES)  # what a walk picks up on the way is not what it is for
                for item, d in ({} if moving else delta).items():
                    if d > 0 and item not in IGNORED:
                        self.sources[item][call] += 1
                        self.gain[(call, item)] = max(d, self.gain.get((call, item), 0))
                consumed = {k: -d for k, d in delta.items() if d < 0 and k not in IGNORED and
                            k not in ("food", "drink", "energy")}
                if consumed and (call.startswith("make(") or call.startswith("place(")):
                    self.uses[call] = consumed
                continue
            reason = r.get("reason", "")
            self.failed[call][reason_key(reason)] += 1
            if m := _NEED.match(reason):
                self.needs[call][m.group(2)] = max(int(m.group(1)), self.needs[call].get(m.group(2), 0))
            elif m := _NEAR.match(reason):
                self.near[call].add(m.group(1))
            else:
                fix = _fix_after(records, i)
                if fix:
                    self.fixes[reason_key(reason)][fix] += 1
        return self

    def source(self, item: str) -> str | None:
        """The call that most reliably yields ``item`` (share of its successful runs that did; then how often).

        Reliability, not count, so that a side effect (stone mined while walking to iron) loses to the
        call whose purpose it is."""
        if not self.sources.get(item):
            return None
        return max(self.sources[item].items(),
                   key=lambda kv: (kv[1] / max(self.tried[kv[0]], 1), kv[1], kv[0]))[0]

    def requirements(self, call: str) -> tuple[dict[str, int], set[str]]:
        """Items (with counts) and nearby things a call is known to need."""
        items = dict(self.needs.get(call, {}))
        for k, v in self.uses.get(call, {}).items():
            items[k] = max(items.get(k, 0), v)
        return items, set(self.near.get(call, set()))

    def fix(self, reason: str) -> str | None:
        options = self.fixes.get(reason_key(reason))
        return max(options.items(), key=lambda kv: (kv[1], kv[0]))[0] if options else None

    def insights(self, limit: int = 12) -> list[str]:
        """The learned facts in words (stored with experiences, shown to LLM planners)."""
        out = [f"{self.source(item)} gives {item}" for item in sorted(self.sources)]
        for call in sorted(set(self.needs) | set(self.near) | set(self.uses)):
            items, near = self.requirements(call)
            parts = [f"{n} {k}" for k, n in sorted(items.items())] + [f"{x} nearby" for x in sorted(near)]
            if parts:
                out.append(f"{call} needs {', '.join(parts)}")
        out += [f"when '{r}', {self.fix(r)} helped" for r in sorted(self.fixes)]
        return out[:limit]


def _fix_after(records: list[dict], i: int) -> str | None:
    """After call i failed, the first other successful call before the same call succeeded."""
    failed = records[i]["skill"]
    for j in range(i + 1, len(records)):
        r = records[j]
        if r["skill"] == failed:
            if not r["ok"]:
                return None
            for k in range(i + 1, j):
                if records[k]["ok"]:
                    return records[k]["skill"]
            return None
    return None
