"""The ReLIC-style Sink-KV transformer policy: a LLaMA decoder over one token per step of a trial.

Positions: a learned embedding of the step within the episode (in the tokenizer) and RoPE over the
episode index within the trial (``positions: episode``), or no RoPE (``none``). RoPE's relative distances
grow with the number of episodes in the trial, so a trial longer than training's shows unseen ones (and a
rotated query meets the unrotated sink key even inside one episode); without it, and with an episodic core,
the network computes the same whatever the episode's index.

Attention is causal over the whole trial (across episodes), or restricted to the running episode with
``inter_episode: false``; a new trial never sees the previous one.

With ``episodic_core`` each layer gets two attentions: the first sees only the running episode, as the
memoryless control's does, the second the whole trial, read through an output projection that starts at zero.
Before training the policy is the control network (its weights can come from a trained control, ``init_from``),
and what it learns to read from earlier episodes is added to, never put in place of, its navigation.
"""
from __future__ import annotations

import gymnasium
import torch
from omegaconf import DictConfig
from torch import nn

from embodied.kernels import reference_probs
from embodied.policy.attention import SinkAttention
from embodied.policy.encoders import VisualEncoder
from embodied.policy.interface import Batch, Policy, episode_restarts, spans_trial
from embodied.policy.kv_cache import KVCache
from embodied.policy.layers import RMSNorm, SwiGLU, upcast
from embodied.policy.settings import TransformerSettings
from embodied.policy.tokens import StepTokenizer


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)) (+ memory(norm(x)) with an episodic core), then
    x + mlp(norm(x))."""

    def __init__(self, s: TransformerSettings):
        super().__init__()
        self.attn_norm = RMSNorm(s.d_model)
        theta = s.rope_theta if s.positions == "episode" else None
        self.attn = SinkAttention(s.d_model, s.heads, s.head_dim, s.sink, theta, s.attention_backend)
        self.memory = (SinkAttention(s.d_model, s.heads, s.head_dim, s.sink, theta, s.attention_backend)
                       if s.episodic_core else None)
        self.mlp_norm = RMSNorm(s.d_model)
        self.mlp = SwiGLU(s.d_model, s.mlp_hidden)

    @property
    def attentions(self) -> list[SinkAttention]:
        """The episodic (or only) attention, then the memory's: their caches' layers in that order."""
        return [self.attn] + ([self.memory] if self.memory is not None else [])


def _last_flag_index(flags: torch.Tensor) -> torch.Tensor:
    """For ``flags (B, T)``: index of the latest set flag at or before each step (-1 if none)."""
    idx = torch.arange(flags.shape[1], device=flags.device).expand_as(flags)
    return torch.where(flags.bool(), idx, -1).cummax(dim=1).values


def context_length(context: KVCache) -> int:
    """Steps a constant context holds: the same for every env (the learner's buffer fills in lockstep)."""
    steps = int(context.lengths.max()) if context.lengths.numel() else 0
    if bool((context.lengths != steps).any()):
        raise ValueError(f"a context must hold the same number of steps for every env; got {context.lengths.tolist()}")
    return steps


START_FIELDS = ("key_start", "memory_start")  # the KVCache field holding each attention's first visible slot


class SinkKVTransformer(Policy):
    """Actor-critic transformer; ``forward`` for training, ``step`` with a ``KVCache`` for rollouts."""

    def __init__(self, cfg: DictConfig | dict, obs_space: dict[str, gymnasium.Space],
                 act_space: dict[str, gymnasium.Space]):
        super().__init__()
        s = TransformerSettings.from_config(cfg, act_space)
        self.settings = s
        self.num_actions = s.num_actions
        self.tokenizer = StepTokenizer(s.tokens, obs_space, s.num_actions, s.d_model)
        self.blocks = nn.ModuleList(Block(s) for _ in range(s.layers))
        self.norm = RMSNorm(s.d_model)
        self.actor = nn.Linear(s.d_model, s.num_actions, bias=False)
        self.critic = nn.Linear(s.d_model, 1, bias=False)
        for name, m in self.named_modules():
            if not name.startswith("tokenizer.encoder"):  # the encoder keeps its own (maybe pretrained) weights
                self._init(m)
        self.spans_trial = spans_trial(s.inter_episode, s.episodic_core)  # per attention of a layer
        for blk in self.blocks:
            if blk.memory is not None:
                nn.init.zeros_(blk.memory.wo.weight)

    @property
    def encoder(self) -> VisualEncoder | None:
        return self.tokenizer.encoder

    @staticmethod
    def _init(m: nn.Module) -> None:
        """GPT-style: N(0, 0.02) weights and step embeddings, zero biases."""
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.norm(x)
        return upcast(self.actor(x)), upcast(self.critic(x)).squeeze(-1)

    def _key_start(self, inputs: Batch, spans_trial: bool, offset: int = 0,
                   carried: torch.Tensor | None = None) -> torch.Tensor | None:
        """First key each step may see: its trial's start, or (unless ``spans_trial``, and in trials marked
        ``memory_cut``) its episode's.

        Steps sit at positions ``offset + i``; ``carried`` (B,) is the start in force before them (a context's).
        """
        ref = inputs["step_index"]
        start = torch.zeros(ref.shape, dtype=torch.long, device=ref.device)
        if carried is not None:
            start = start + carried.to(start).view(-1, 1)
        flags = [inputs["is_trial_first"]] if "is_trial_first" in inputs else []
        episode = episode_restarts(inputs, spans_trial)
        if episode is not None:
            flags.append(episode)
        for f in flags:
            last = _last_flag_index(f)
            start = torch.where(last >= 0, torch.maximum(start, last + offset), start)
        return start if bool(start.any()) else None

    def _run(self, inputs: Batch, lengths: torch.Tensor | None, context: KVCache | None = None):
        x = self.tokenizer(inputs)
        b, t = x.shape[:2]
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long, device=x.device)
        offset = 0 if context is None else context_length(context)
        starts = [self._key_start(inputs, spans, offset, None if context is None else getattr(context, field))
                  for spans, field in zip(self.spans_trial, START_FIELDS)]
        rope_pos = inputs["episode_index"].long()
        layers = len(self.blocks)
        kvs = [None] * (layers * len(starts))  # cache layer j * layers + i: attention j of block i
        for i, blk in enumerate(self.blocks):
            h = blk.attn_norm(x)
            for j, attn in enumerate(blk.attentions):
                slot = j * layers + i
                prefix = None if context is None else (context.k[slot, :, :, :offset], context.v[slot, :, :, :offset])
                a, k, v = attn(h, rope_pos, lengths + offset, starts[j], prefix=prefix)
                x = x + a
                kvs[slot] = (k, v)
            x = x + blk.mlp(blk.mlp_norm(x))
        logits, values = self._heads(x)
        return logits, values, kvs, lengths, starts

    def forward(self, inputs: Batch, lengths: torch.Tensor | None = None,
                context: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        logits, values, _, _, _ = self._run(inputs, lengths, context)
        return logits, values

    def memory_parameters(self) -> set[str]:
        return {f"blocks.{i}.memory.{n}" for i, blk in enumerate(self.blocks) if blk.memory is not None
                for n, _ in blk.memory.named_parameters()}

    def select_state(self, state: KVCache, rows: torch.Tensor) -> KVCache:
        return state.select(rows)

    @torch.no_grad()
    def attention(self, state: KVCache) -> list[torch.Tensor]:
        """Per layer, ``(B, H, S)``: how the latest step's query weighed each cached step (the sink's share left out);
        with an episodic core, the memory attention's (the episodic one never sees an earlier episode)."""
        j = len(self.spans_trial) - 1
        slot = j * len(self.blocks)
        start = getattr(state, START_FIELDS[j])
        return [reference_probs(state.queries[slot + i], state.k[slot + i], state.lengths,
                                blk.attentions[j].sink_kv()[0], start) for i, blk in enumerate(self.blocks)]

    def initial_state(self, batch_size: int, max_steps: int, device: torch.device | str = "cpu",
                      dtype: torch.dtype | None = None) -> KVCache:
        """An empty cache; ``dtype`` (default: the weights') can be bf16 to halve cache memory on a GPU."""
        s = self.settings
        return KVCache.empty(s.layers * len(self.spans_trial), batch_size, s.heads, max_steps, s.head_dim,
                             dtype or self.actor.weight.dtype, device)

    def prefill(self, inputs: Batch, lengths: torch.Tensor | None = None,
                max_steps: int | None = None) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """Forward over ``(B, T)`` steps and a KV cache holding them, ready for ``step`` to continue.

        Used to refresh stale caches and values after a (partial) update or a reordering of episodes.
        """
        with torch.no_grad():
            logits, values, kvs, lengths, starts = self._run(inputs, lengths)
        b, t = logits.shape[:2]
        cache = self.initial_state(b, max(max_steps or t, t), logits.device)
        for i, (k, v) in enumerate(kvs):
            cache.k[i, :, :, :t] = k
            cache.v[i, :, :, :t] = v
        cache.lengths = lengths.to(cache.lengths)
        last = (cache.lengths - 1).clamp_min(0)
        for start, field in zip(starts, START_FIELDS):
            if start is not None:
                setattr(cache, field, start.gather(1, last[:, None])[:, 0])
        return logits, values, cache

    def step(self, inputs: Batch, state: KVCache, reset: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """One step per env, appended to the cache in place. ``reset`` (default: ``is_trial_first``)
        empties an env's cache; with ``inter_episode: false`` (or ``memory_cut``), ``is_first`` moves its visible start."""
        if reset is None and "is_trial_first" in inputs:
            reset = inputs["is_trial_first"]
        if reset is not None:
            state.reset(reset.to(state.lengths.device).bool())
        slots = state.append_slots()
        for spans, field in zip(self.spans_trial, START_FIELDS):
            episode = episode_restarts(inputs, spans)
            if episode is not None:
                setattr(state, field, torch.where(episode.to(slots.device), slots, getattr(state, field)))
        x = self.tokenizer(inputs)
        rope_pos = inputs["episode_index"].long()
        layers = len(self.blocks)
        for i, blk in enumerate(self.blocks):
            h = blk.attn_norm(x)
            for j, attn in enumerate(blk.attentions):
                x = x + attn.step(h, rope_pos, state, j * layers + i, slots, getattr(state, START_FIELDS[j]))
            x = x + blk.mlp(blk.mlp_norm(x))
        state.lengths = slots + 1
        logits, values = self._heads(x)
        return logits, values, state

    def cache_bytes_per_step(self, dtype: torch.dtype | None = None) -> int:
        """KV-cache memory one env adds per step (what a 64k-step trial costs: this x 65536)."""
        s = self.settings
        size = torch.empty((), dtype=dtype or self.actor.weight.dtype).element_size()
        return 2 * s.layers * len(self.spans_trial) * s.heads * s.head_dim * size

