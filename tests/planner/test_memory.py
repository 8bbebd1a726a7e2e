"""The experience database: round trips, concurrent writer processes, retrieval order and filters."""
from __future__ import annotations

import json
import multiprocessing as mp
import random
import sqlite3

import numpy as np
import pytest

from embodied.planner.embedders import HashEmbedder
from embodied.planner.experience import Experience
from embodied.planner.memory import ExperienceMemory, MemoryDBError

TASKS = ["collect_wood", "place_table", "make_wood_pickaxe", "collect_stone"]
WORDS = "tree stone water cow table furnace wood pickaxe coal iron near far left right up down".split()


def _exp(rng: random.Random, i: int) -> Experience:
    state = " ".join(rng.choice(WORDS) for _ in range(12))
    plan = [{"skill": "collect(tree)", "ok": True, "reason": "", "steps": rng.randint(1, 9), "delta": {"wood": 1},
             "unlocked": []}]
    return Experience(rng.choice(TASKS), state, plan, f"outcome {i}", rng.random() < 0.5, seed=i,
                      metadata={"insights": [f"fact {i}"], "n": i})


def test_round_trip_and_jsonl_exchange(tmp_path, hash_embedder):
    rng = random.Random(0)
    exps = [_exp(rng, i) for i in range(30)]
    with ExperienceMemory(tmp_path / "a.db", hash_embedder) as mem:
        ids = mem.add(exps)
        assert ids == list(range(1, 31))
        back = mem.get(ids)
        for a, b in zip(exps, back):
            assert a.to_json() == b.to_json()
        assert mem.export_jsonl(tmp_path / "x.jsonl") == 30
    lines = (tmp_path / "x.jsonl").read_text().splitlines()
    assert [json.loads(line)["uid"] for line in lines] == [e.uid for e in exps]
    with ExperienceMemory(tmp_path / "b.db", hash_embedder) as other:
        assert other.import_jsonl(tmp_path / "x.jsonl") == (30, 0)
        assert other.import_jsonl(tmp_path / "x.jsonl") == (0, 30)  # idempotent: uids are unique
        assert [e.to_json() for e in other.iter()] == [e.to_json() for e in exps]
        # the same embedder gives the same vectors, so retrieval agrees between the two databases
        q = exps[3].embedding_text()
    with ExperienceMemory(tmp_path / "a.db", hash_embedder) as a, ExperienceMemory(tmp_path / "b.db", hash_embedder) as b:
        assert [e.uid for _, e in a.search(q, 5)] == [e.uid for _, e in b.search(q, 5)]


def test_reopen_is_persistent_and_in_wal_mode(tmp_path, hash_embedder):
    with ExperienceMemory(tmp_path / "m.db", hash_embedder) as mem:
        mem.add([_exp(random.Random(1), 0)])
    raw = sqlite3.connect(tmp_path / "m.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    with ExperienceMemory(tmp_path / "m.db", hash_embedder) as mem:
        assert len(mem) == 1


def _writer(path: str, worker: int, n: int) -> None:
    rng = random.Random(worker)
    mem = ExperienceMemory(path, HashEmbedder(128), timeout=120)
    for i in range(n):
        mem.add([_exp(rng, worker * 1000 + i)])
    mem.close()


def test_concurrent_writer_processes_lose_no_row(tmp_path):
    path = str(tmp_path / "shared.db")
    ExperienceMemory(path, HashEmbedder(128)).close()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with ExperienceMemory(path, HashEmbedder(128)) as mem:
        seeds = sorted(e.seed for e in mem.iter())
    assert seeds == sorted(w * 1000 + i for w in range(4) for i in range(40))


def test_retrieval_matches_brute_force_reference_with_filters(tmp_path, hash_embedder):
    rng = random.Random(7)
    exps = [_exp(rng, i) for i in range(200)]
    vecs = hash_embedder.embed([e.embedding_text() for e in exps])
    with ExperienceMemory(tmp_path / "m.db", hash_embedder) as mem:
        mem.add(exps[:120])
        for trial in range(20):
            if trial == 10:
                mem.add(exps[120:])  # the index picks up rows added after earlier searches
            n = 120 if trial < 10 else 200
            query = " ".join(rng.choice(WORDS) for _ in range(6))
            task = rng.choice(TASKS + [None])
            success = rng.choice([True, False, None])
            k = rng.randint(1, 15)
            got = mem.search(query, k, task=task, success=success)
            q = hash_embedder.embed([query])[0]
            ref = [(float(vecs[i] @ q), i) for i in range(n)
                   if (task is None or exps[i].task == task) and (success is None or exps[i].success == success)]
            ref.sort(key=lambda t: (-t[0], t[1]))
            # The same ranking, up to the order of scores that tie within float rounding (the index scores
            # with a matrix product, the reference one dot product at a time).
            ref_score = {exps[i].uid: score for score, i in ref}
            assert len(got) == min(k, len(ref)) and len({e.uid for _, e in got}) == len(got)
            for (_, e), (score, _) in zip(got, ref[:k]):
                assert e.uid in ref_score and abs(ref_score[e.uid] - score) <= 1e-5
            assert np.allclose([s for s, _ in got], [s for s, _ in ref[:k]], atol=1e-5)
            assert all(a >= b for (a, _), (b, _) in zip(got, got[1:]))


def test_minilm_retrieves_by_meaning(tmp_path, minilm):
    texts = {"wood": "chopped a tree and got wood", "water": "drank from the lake until not thirsty",
             "zombie": "fought off a zombie at night"}
    with ExperienceMemory(tmp_path / "m.db", minilm) as mem:
        mem.add([Experience(k, v, [], "", True) for k, v in texts.items()])
        assert mem.search("task: collect lumber\ncut down trees", 1)[0][1].task == "wood"
        assert mem.search("task: quench thirst\nfind water to drink", 1)[0][1].task == "water"


def test_refuses_to_mix_embedders_and_reports_bad_files(tmp_path, hash_embedder):
    with ExperienceMemory(tmp_path / "m.db", hash_embedder) as mem:
        mem.add([_exp(random.Random(2), 0)])
    with pytest.raises(MemoryDBError, match="hash-128.*hash-64"):
        ExperienceMemory(tmp_path / "m.db", HashEmbedder(64))
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(MemoryDBError, match="not a usable experience database"):
        ExperienceMemory(tmp_path / "junk.db", hash_embedder)
    (tmp_path / "bad.jsonl").write_text('{"task": "x"}\n')
    with ExperienceMemory(tmp_path / "n.db", hash_embedder) as mem:
        with pytest.raises(MemoryDBError, match="bad.jsonl:1"):
            mem.import_jsonl(tmp_path / "bad.jsonl")
