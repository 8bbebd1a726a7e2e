"""Chat completions from any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, hosted APIs) over
plain HTTP. The API key comes from an environment variable and never appears in logs or errors.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request

from embodied.planner.base import PlannerError

log = logging.getLogger(__name__)
_RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIChat:
    def __init__(self, base_url: str, model: str, api_key_env: str | None = "OPENAI_API_KEY",
                 timeout: float = 60.0, retries: int = 3, backoff: float = 1.0, temperature: float = 0.0,
                 max_tokens: int = 512):
        if not base_url.startswith(("http://", "https://")):
            raise PlannerError(f"planner.base_url={base_url!r} must start with http:// or https://")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.timeout, self.retries, self.backoff = model, timeout, retries, backoff
        self.temperature, self.max_tokens = temperature, max_tokens
        self._key = os.environ.get(api_key_env, "") if api_key_env else ""

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def __call__(self, messages: list[dict[str, str]]) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": self.temperature,
                           "max_tokens": self.max_tokens}).encode()
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("planner HTTP retry %d/%d in %.1fs: %s", attempt, self.retries, delay, problem)
                time.sleep(delay)
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as e:
                detail = self._redact(e.read().decode(errors="replace")[:300])
                problem = f"HTTP {e.code} from {self.url}: {detail}"
                if e.code in _RETRYABLE:
                    continue
                raise PlannerError(problem) from None
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                problem = f"no answer from {self.url} within {self.timeout}s: {reason}"
                continue
            try:
                content = json.loads(raw)["choices"][0]["message"]["content"]
                if not isinstance(content, str):
                    raise TypeError("content is not a string")
                return content
            except (ValueError, KeyError, IndexError, TypeError) as e:
                problem = f"malformed response from {self.url} ({e}): {self._redact(raw[:200].decode(errors='replace'))}"
        raise PlannerError(f"planner server failed after {self.retries + 1} tries: {problem}")
