"""Chat prompts for LLM planners: skills, goal, state, retrieved experiences and this attempt's failures."""
from __future__ import annotations

import json

from embodied.planner.base import PlanContext
from embodied.planner.experience import Experience
from envs.skills import SkillSpec

SYSTEM = """You plan for an agent in {world}. You act only through these skills:
{skills}
Answer with JSON only: {{"plan": ["skill(arg)", ...], "insights": ["short lesson learned", ...]}}.
Use the past attempts: repeat what worked, fix what failed (their failure reasons say what was missing)."""


def _skills(skills: dict[str, SkillSpec]) -> str:
    lines = []
    for name, spec in skills.items():
        args = ", ".join("X" for _ in spec.args)
        domain = f" (X in {', '.join(spec.args[0])})" if spec.args else ""
        lines.append(f"- {name}({args}): {spec.doc}{domain}")
    return "\n".join(lines)


def _steps(plan: list) -> str:
    out = []
    for step in plan:
        if isinstance(step, dict):
            result = "ok" if step.get("ok") else f"failed: {step.get('reason', '')}"
            delta = ", ".join(f"{k} {v:+d}" for k, v in step.get("delta", {}).items() if k != "health")
            out.append(f"{step.get('skill')} -> {result}" + (f" [{delta}]" if delta else ""))
        else:
            out.append(str(step))
    return "; ".join(out) or "(nothing)"


def _experience(i: int, e: Experience) -> str:
    insights = e.metadata.get("insights") or []
    text = (f"#{i} task {e.task}, {'SUCCESS' if e.success else 'FAILURE'}: {e.outcome}\n"
            f"   steps: {_steps(e.plan)}")
    if insights:
        text += f"\n   insights: {'; '.join(insights[:6])}"
    return text


def messages(ctx: PlanContext, max_steps_shown: int = 30) -> list[dict[str, str]]:
    past = "\n".join(_experience(i + 1, e) for i, e in enumerate(ctx.retrieved)) or "(none yet)"
    user = (f"Goal: {ctx.goal}\n\nCurrent state:\n{ctx.state}\n\nSimilar past attempts:\n{past}\n\n"
            f"This attempt so far: {_steps(ctx.history[-max_steps_shown:])}\n\nWrite the plan.")
    system = SYSTEM.format(world=ctx.language.world, skills=_skills(ctx.language.skills))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def retry_message(output: str, error: str) -> list[dict[str, str]]:
    """Follow-up turns after unusable output: show it back with the parse error."""
    return [{"role": "assistant", "content": output[:2000]},
            {"role": "user", "content": f"That answer could not be used: {error}. Reply with JSON only, "
                                        f"e.g. {json.dumps({'plan': ['collect(tree)'], 'insights': []})}"}]
