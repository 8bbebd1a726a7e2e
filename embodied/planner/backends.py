"""Build a planner backend from its config group (configs/planner/<backend>.yaml)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from embodied.planner.base import Planner, PlannerError
from embodied.planner.llm import LLMPlanner

BACKENDS = ("symbolic", "openai", "hf")


def make_planner(cfg: Mapping[str, Any]) -> Planner:
    backend = cfg.get("backend")
    if backend == "symbolic":
        from embodied.planner.symbolic import SymbolicPlanner
        return SymbolicPlanner(memory_use=cfg.get("memory_use", "knowledge"))
    if backend == "openai":
        from embodied.planner.openai_chat import OpenAIChat
        if not cfg.get("model"):
            raise PlannerError("planner.model is not set: name the model the server serves (planner.model=...)")
        chat = OpenAIChat(cfg["base_url"], cfg["model"], cfg.get("api_key_env"), float(cfg.get("timeout", 60)),
                          int(cfg.get("retries", 3)), float(cfg.get("backoff", 1.0)),
                          float(cfg.get("temperature", 0.0)), int(cfg.get("max_tokens", 512)))
        return LLMPlanner(chat, f"openai:{cfg['model']}", int(cfg.get("parse_retries", 2)))
    if backend == "hf":
        from embodied.planner.hf_chat import HFChat
        chat = HFChat(cfg.get("model_dir"), int(cfg.get("max_new_tokens", 256)), cfg.get("device", "cpu"))
        return LLMPlanner(chat, f"hf:{cfg.get('model_dir')}", int(cfg.get("parse_retries", 2)))
    raise PlannerError(f"planner.backend={backend!r} is not known; allowed: {list(BACKENDS)}")
