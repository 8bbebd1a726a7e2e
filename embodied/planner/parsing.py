"""LLM text -> validated skill calls. Text is only ever parsed, never executed.

Accepted forms (code fences allowed around either):
- JSON: ``{"plan": ["collect(tree)", {"skill": "make", "args": ["wood_pickaxe"]}], "insights": ["..."]}``
  or a bare JSON list of such steps;
- numbered or bulleted lines: ``1. collect(tree)`` / ``2) make wood_pickaxe`` / ``- drink()``, with
  optional ``Insight: ...`` lines. Unnumbered prose lines are ignored.
"""
from __future__ import annotations

import dataclasses
import json
import re

from envs.skills import SkillCall, SkillError

_FENCE = re.compile(r"```[a-zA-Z]*\n?(.*?)```", re.S)
_ITEM = re.compile(r"^\s*(?:\d+\s*[.):]|[-*•])\s*(.+?)\s*$")
_INSIGHT = re.compile(r"^\s*(?:[-*]\s*)?insights?\s*:\s*(.+)$", re.I)
_BARE = re.compile(r"^([a-z_]+)((?:\s+[a-z_]+)*)$")


class PlanParseError(ValueError):
    """The text holds no usable plan; the message lists every problem found."""


@dataclasses.dataclass
class Proposal:
    calls: list[SkillCall]
    insights: list[str] = dataclasses.field(default_factory=list)


def _step(item, call: type[SkillCall]) -> SkillCall:
    if isinstance(item, str):
        text = item.strip().rstrip(".;,")
        if "(" in text:
            return call.parse(text)
        m = _BARE.match(text.replace("`", ""))
        if not m:
            raise SkillError(f"{item!r} is not a skill call like collect(tree)")
        return call(m.group(1), tuple(m.group(2).split())).validated()
    if isinstance(item, dict):
        name = item.get("skill", item.get("name"))
        args = item.get("args", item.get("arguments", []))
        if isinstance(args, str):
            args = [args]
        if not isinstance(name, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise SkillError(f"step {json.dumps(item)[:80]} needs a string 'skill' and a list of string 'args'")
        return call(name.strip(), tuple(a.strip() for a in args)).validated()
    raise SkillError(f"step {item!r} is neither a string nor an object")


def _from_json(data, call: type[SkillCall]) -> Proposal:
    if isinstance(data, dict):
        steps, insights = data.get("plan", data.get("steps")), data.get("insights", [])
        if not isinstance(steps, list):
            raise PlanParseError("the JSON object has no list under 'plan'")
    elif isinstance(data, list):
        steps, insights = data, []
    else:
        raise PlanParseError(f"JSON of type {type(data).__name__} is not a plan")
    if isinstance(insights, str):
        insights = [insights]
    calls, errors = [], []
    for i, item in enumerate(steps, 1):
        try:
            calls.append(_step(item, call))
        except SkillError as e:
            errors.append(f"step {i}: {e}")
    if errors:
        raise PlanParseError("; ".join(errors))
    return Proposal(calls, [str(s) for s in insights if str(s).strip()])


def _json_candidate(text: str):
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if start != -1 and end > start:
            try:
                return json.loads(text[start:end + 1])
            except json.JSONDecodeError:
                continue
    return None


def parse_plan(text: str, call: type[SkillCall]) -> Proposal:
    """Parse planner output into a non-empty list of calls validated by ``call`` (the world's SkillCall class,
    ``language.call``); raises :class:`PlanParseError`."""
    if not isinstance(text, str) or not text.strip():
        raise PlanParseError("the planner returned empty text")
    fenced = _FENCE.findall(text)
    body = "\n".join(fenced) if fenced else text
    data = _json_candidate(body)
    if data is not None:
        proposal = _from_json(data, call)
    else:
        calls, insights, errors = [], [], []
        for line in body.splitlines():
            if m := _INSIGHT.match(line):
                insights.append(m.group(1).strip())
            elif m := _ITEM.match(line):
                try:
                    calls.append(_step(m.group(1), call))
                except SkillError as e:
                    errors.append(f"line {line.strip()!r}: {e}")
        if errors:
            raise PlanParseError("; ".join(errors))
        proposal = Proposal(calls, insights)
    if not proposal.calls:
        raise PlanParseError("no skill calls found; answer with JSON {\"plan\": [\"collect(tree)\", ...]}")
    return proposal
