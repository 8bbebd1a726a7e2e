"""The openai backend against a local HTTP server that speaks /v1/chat/completions."""
from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from embodied.planner.base import PlanContext, PlannerError
from embodied.planner.llm import LLMPlanner
from embodied.planner.openai_chat import OpenAIChat
from envs.crafter.skills import LANGUAGE

KEY = "sk-test-SECRET-123"
GOOD = json.dumps({"plan": ["collect(tree)", "place(table)"], "insights": ["trees give wood"]})


class Server:
    """Answers each POST with the next scripted reply: (status, body) or ("sleep", seconds, body)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                reply = outer.replies.pop(0) if outer.replies else (200, _completion(GOOD))
                if reply[0] == "sleep":
                    time.sleep(reply[1])
                    reply = reply[2]
                status, payload = reply
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(content):
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


@pytest.fixture
def server(request):
    servers = []

    def start(replies):
        servers.append(Server(replies))
        return servers[-1]
    yield start
    for s in servers:
        s.close()


@pytest.fixture
def chat_for(monkeypatch):
    monkeypatch.setenv("TEST_PLANNER_KEY", KEY)

    def make(srv, **kw):
        kw = {"timeout": 2.0, "retries": 2, "backoff": 0.01, **kw}
        return OpenAIChat(srv.url, "test-model", "TEST_PLANNER_KEY", **kw)
    return make


def ctx():
    return PlanContext("place_table", "unlock place_table", "vitals: ...", {"wood": 0}, {}, [], [], LANGUAGE)


def test_plans_from_a_well_formed_reply_and_sends_the_protocol(server, chat_for):
    srv = server([(200, _completion(GOOD))])
    proposal = LLMPlanner(chat_for(srv), "openai:test").propose(ctx())
    assert [str(c) for c in proposal.calls] == ["collect(tree)", "place(table)"]
    assert proposal.insights == ["trees give wood"]
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == f"Bearer {KEY}"
    assert req["body"]["model"] == "test-model"
    assert [m["role"] for m in req["body"]["messages"]] == ["system", "user"]
    assert "place_table" in req["body"]["messages"][1]["content"]


def test_retries_500_malformed_body_and_timeout_then_succeeds(server, chat_for):
    srv = server([(500, {"error": "overloaded"}), (200, "{not json"), ("sleep", 1.5, (200, _completion("late"))),
                  (200, _completion(GOOD))])
    chat = chat_for(srv, timeout=0.5, retries=3)
    assert chat([{"role": "user", "content": "hi"}]) == GOOD
    assert len(srv.requests) == 4


def test_gives_up_after_retries_with_a_clear_error(server, chat_for):
    srv = server([(503, "busy")] * 3)
    with pytest.raises(PlannerError, match="failed after 3 tries: HTTP 503"):
        chat_for(srv)([{"role": "user", "content": "hi"}])


def test_client_errors_are_not_retried_and_never_show_the_key(server, chat_for, caplog):
    srv = server([(401, {"error": f"invalid key {KEY}"})])
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PlannerError) as e:
        chat_for(srv)([{"role": "user", "content": "hi"}])
    assert "HTTP 401" in str(e.value) and KEY not in str(e.value)
    assert len(srv.requests) == 1
    srv2 = server([(500, f"echo {KEY}"), (500, f"echo {KEY}"), (500, f"echo {KEY}")])
    with pytest.raises(PlannerError) as e2:
        chat_for(srv2)([{"role": "user", "content": "hi"}])
    assert KEY not in str(e2.value) and KEY not in caplog.text


def test_malformed_plans_are_re_asked_with_the_error_then_reported(server, chat_for):
    srv = server([(200, _completion("I think you should chop trees.")), (200, _completion("1. fly(moon)")),
                  (200, _completion(GOOD))])
    proposal = LLMPlanner(chat_for(srv), "openai:test", parse_retries=2).propose(ctx())
    assert [str(c) for c in proposal.calls] == ["collect(tree)", "place(table)"]
    retry = srv.requests[2]["body"]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "1. fly(moon)"}
    assert "unknown skill 'fly'" in retry[-1]["content"]

    srv = server([(200, _completion("nonsense"))] * 3)
    with pytest.raises(PlannerError, match="no usable plan after 3 tries.*'nonsense'"):
        LLMPlanner(chat_for(srv), "openai:test", parse_retries=2).propose(ctx())


def test_unreachable_server_is_reported(chat_for):
    class Nowhere:
        url = "http://127.0.0.1:9/v1"
    with pytest.raises(PlannerError, match="no answer from http://127.0.0.1:9/v1/chat/completions"):
        chat_for(Nowhere, retries=1)([{"role": "user", "content": "hi"}])


def test_hf_backend_names_a_missing_model_directory(tmp_path):
    from embodied.planner.hf_chat import HFChat
    with pytest.raises(PlannerError, match="not a local Hugging Face model directory"):
        HFChat(str(tmp_path / "missing"))


def test_plan_command_runs_the_loop_against_the_server(server, monkeypatch, tmp_path, capsys):
    from embodied.cli import main as cli
    monkeypatch.setenv("TEST_PLANNER_KEY", KEY)
    srv = server([(200, _completion("```\n1. collect(tree)\n```"))] * 4)
    rc = cli(["plan", "task=collect_wood", "attempts=2", "planner=openai", f"planner.base_url={srv.url}",
              "planner.model=test-model", "planner.api_key_env=TEST_PLANNER_KEY", "budget=40",
              f"log={tmp_path / 'log.jsonl'}"])
    out = capsys.readouterr().out
    assert rc == 0 and "2/2 successes" in out and KEY not in out
    assert KEY not in (tmp_path / "log.config.yaml").read_text()
    assert len(srv.requests) == 2 and all(r["auth"] == f"Bearer {KEY}" for r in srv.requests)
