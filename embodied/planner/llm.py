"""A planner backed by a chat model: prompt, parse, and re-ask on malformed output."""
from __future__ import annotations

import logging
from collections.abc import Callable

from embodied.planner import prompts
from embodied.planner.base import PlanContext, PlannerError
from embodied.planner.parsing import PlanParseError, Proposal, parse_plan

log = logging.getLogger(__name__)
Chat = Callable[[list[dict[str, str]]], str]


class LLMPlanner:
    """Wraps ``chat(messages) -> text``; output that does not parse is shown back to the model up to
    ``parse_retries`` times, then reported as a :class:`PlannerError` quoting the last output."""

    def __init__(self, chat: Chat, name: str, parse_retries: int = 2):
        self.chat = chat
        self.name = name
        self.parse_retries = parse_retries

    def propose(self, ctx: PlanContext) -> Proposal:
        msgs = prompts.messages(ctx)
        text = ""
        for attempt in range(self.parse_retries + 1):
            text = self.chat(msgs)
            try:
                return parse_plan(text, ctx.language.call)
            except PlanParseError as e:
                log.warning("%s: unusable plan (try %d/%d): %s", self.name, attempt + 1, self.parse_retries + 1, e)
                msgs = msgs + prompts.retry_message(text, str(e))
                error = e
        raise PlannerError(f"{self.name} gave no usable plan after {self.parse_retries + 1} tries: {error}; "
                           f"last output: {text[:300]!r}")
