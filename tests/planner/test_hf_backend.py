"""The hf backend on a tiny randomly initialised GPT-2 written to a local directory (no download)."""
from __future__ import annotations

import pytest

from embodied.planner.base import PlanContext, PlannerError
from embodied.planner.llm import LLMPlanner
from envs.crafter.skills import LANGUAGE


@pytest.mark.slow
def test_hf_backend_generates_from_a_local_directory_and_reports_unusable_output(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from embodied.planner.hf_chat import HFChat

    words = ["<unk>", "<eos>", "{", "}", "[", "]", '"plan"', ":", ",", '"collect(tree)"']
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>").save_pretrained(tmp_path)
    import torch

    torch.manual_seed(0)  # fixed random weights: an unseeded model sometimes emits <eos> first (empty text)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(words), n_positions=4096, n_embd=16, n_layer=1, n_head=2,
                               bos_token_id=1, eos_token_id=1)).save_pretrained(tmp_path)
    chat = HFChat(str(tmp_path), max_new_tokens=6)
    text = chat([{"role": "user", "content": "plan"}])
    assert isinstance(text, str) and 0 < len(text.split()) <= 6
    ctx = PlanContext("collect_wood", "goal", "state", {}, {}, [], [], LANGUAGE)
    calls = []
    planner = LLMPlanner(lambda m: calls.append(m) or chat(m), "hf:tiny", parse_retries=1)
    try:
        proposal = planner.propose(ctx)  # random weights: usually junk, but a valid plan must be a real one
        assert all(str(c) == "collect(tree)" for c in proposal.calls)
    except PlannerError as e:
        assert "no usable plan after 2 tries" in str(e) and len(calls) == 2
