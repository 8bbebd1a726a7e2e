"""PPO with partial updates: the loss over a window of new steps with the whole trial as context.

After ReLIC: every ``U`` steps the policy runs causally over the whole buffer ``[0, t)`` and the PPO
loss covers only the new steps ``[t - U, t)``; gradients flow through the older context too, or only through
its last ``W`` steps, or none of it (``trainer.grad_context``: the rest is a constant prefix, its KV cache or
recurrent state computed once without gradients, so an update's cost stops growing with the trial);
advantages are recomputed over the whole buffer with a value bootstrap at ``t``. After the update the
completed episodes are shuffled and the values (and the recurrent state, see ``refresh``) are
recomputed with the new weights. At ``T`` one full update covers all steps.

A trained visual encoder's gradient may come from the loss window's frames alone (``trainer.encoder_grad=window``):
the older frames' features are the refresh's, computed once with the current weights, so the encoder's work per
update no longer grows with the trial while the core keeps its gradient over the whole context. With ``new`` the
full update at ``T`` too trains the encoder on the frames collected since the previous update only. With ``acted``
the older frames' features are the ones acting computed, stored beside the frames, so no frame is encoded again:
each is encoded when acted on and trained on in the one update after it (sample-factory's treatment).
"""
from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from embodied.learner.buffer import TrialBuffer
from embodied.learner.gae import gae
from embodied.learner.recall import RecallHead
from embodied.learner.schedule import make_scheduler
from embodied.policy.encoders import FEATURE_KEY
from embodied.policy.interface import Acted, Batch, Policy

log = logging.getLogger(__name__)


@dataclass
class PPOHyper:
    """Hyper-parameters of the update; documented in configs/trainer/ppo_partial.yaml."""
    lr: float = 2e-4
    warmup_updates: int = 10
    lr_floor: float = 0.1
    total_updates: int = 1000
    epochs: int = 4
    minibatches: int = 1
    clip: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.2
    gamma: float = 0.99
    lam: float = 0.95
    reward_scale: float = 1.0  # multiplies rewards in the value targets only (the policy's reward input stays raw)
    normalize_advantages: bool = True
    imitation_coef: float = 0.0  # current weight of the oracle-imitation term (the trainer anneals it)
    recall_coef: float = 0.0  # weight of the auxiliary recall loss (embodied/learner/recall.py); 0: no recall head
    update_threads: int = 0  # torch intra-op threads during update and refresh (0: the process's setting)
    grad_context: int = -1  # steps before a partial update's loss window that gradients flow through (-1: all)
    encoder_grad: str = "full"  # full | window | new | acted: a trained encoder's gradient from every frame, the loss
    # window's only, or the frames collected since the previous update only (the full update at T included), the
    # older frames' features re-encoded with the current weights or, with acted, as acting encoded them


ENCODER_GRAD = ("full", "window", "new", "acted")  # trainer.encoder_grad's values
# Frames per encoder call when a CPU learner encodes a trial's old frames without gradients: one call over all of
# them (16 envs x 448 steps) runs 1.9x (32 px) to 2.5x (64 px) slower than calls of ~1,000 frames, whose
# activations stay in the caches.
CPU_ENCODE_FRAMES = 1024


def grad_context_steps(value: Any) -> int:
    """``trainer.grad_context`` as a number of steps: ``full`` -> -1 (all of them), ``none`` -> 0, ``W`` -> W."""
    named = {"full": -1, "none": 0}
    if isinstance(value, str) and value in named:
        return named[value]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError(f"trainer.grad_context={value!r} is invalid; expected full, none or a positive number of steps")


def ppo_loss(logits: torch.Tensor, values: torch.Tensor, actions: torch.Tensor, old_logprob: torch.Tensor,
             advantages: torch.Tensor, returns: torch.Tensor, hp: PPOHyper) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Clipped-surrogate + value + entropy loss, averaged over all the steps given."""
    logp_all = torch.log_softmax(logits.float(), dim=-1)
    logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    ratio = torch.exp(logp - old_logprob)
    surrogate = torch.minimum(ratio * advantages, ratio.clamp(1 - hp.clip, 1 + hp.clip) * advantages)
    entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
    policy_loss = -surrogate.mean()
    value_loss = 0.5 * ((values.float() - returns) ** 2).mean()
    loss = policy_loss + hp.value_coef * value_loss - hp.entropy_coef * entropy
    with torch.no_grad():
        stats = {"policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(), "entropy": entropy.detach(),
                 "approx_kl": ((ratio - 1) - torch.log(ratio)).mean(), "clip_frac": ((ratio - 1).abs() > hp.clip).float().mean()}
    return loss, stats


def imitation_loss(logits: torch.Tensor, oracle: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy towards the oracle's action on the agent's own states (DAgger-style); -1 = no label.
    With ``weight``, the weighted mean over the labelled steps."""
    labelled = oracle >= 0
    if not bool(labelled.any()):
        return logits.new_zeros(())
    ce = nn.functional.cross_entropy(logits[labelled].float(), oracle[labelled], reduction="none")
    if weight is None:
        return ce.mean()
    w = weight[labelled].float()
    return (w * ce).sum() / w.sum()


def window_loss(logits: torch.Tensor, values: torch.Tensor, actions: torch.Tensor, old_logprob: torch.Tensor,
                advantages: torch.Tensor, returns: torch.Tensor, start: int, stop: int,
                hp: PPOHyper, oracle: torch.Tensor | None = None,
                oracle_weight: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The PPO loss over steps ``[start, stop)`` of ``(B, T)`` outputs: older steps are context only.

    With ``hp.imitation_coef > 0`` and oracle labels, adds the (weighted) imitation term over the same steps.
    """
    w = slice(start, stop)
    loss, stats = ppo_loss(logits[:, w], values[:, w], actions[:, w], old_logprob[:, w], advantages[:, w],
                           returns[:, w], hp)
    if hp.imitation_coef > 0 and oracle is not None:
        weight = None if oracle_weight is None else oracle_weight[:, w]
        imitation = imitation_loss(logits[:, w], oracle[:, w], weight)
        loss = loss + hp.imitation_coef * imitation
        stats["imitation_loss"] = imitation.detach()
        if weight is not None:  # the share of labels that weigh other than 1 (imitation_focus: memory decided them)
            labelled = oracle[:, w] >= 0
            stats["imitation_focus_share"] = ((weight != 1) & labelled).sum() / labelled.sum().clamp(min=1)
    return loss, stats


@contextlib.contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """``count`` torch intra-op threads inside the block (0: unchanged), for the whole process. Updates and refreshes
    run while the env workers wait for them, so they may use the cores that collection shares with the workers."""
    before = torch.get_num_threads()
    if count > 0:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class PPOLearner:
    """Owns the optimiser and LR schedule; runs partial/full updates and the post-update refresh."""

    def __init__(self, policy: Policy, hp: PPOHyper, capacity: int, device: torch.device | str = "cpu",
                 train_module: nn.Module | None = None):
        self.policy, self.hp, self.capacity, self.device = policy, hp, capacity, torch.device(device)
        self.module = train_module or policy  # a DDP wrapper when training over several GPUs
        self.actor = policy  # what acts: the policy itself, or a copy of it when updates run beside acting
        # (steps, state, visual features or None) of the last refresh, valid until the weights change
        self._refreshed: tuple[int, Any, torch.Tensor | None] | None = None
        if hp.encoder_grad not in ENCODER_GRAD:
            raise ValueError(f"trainer.encoder_grad={hp.encoder_grad!r} is invalid; expected one of {ENCODER_GRAD}")
        # fused: one kernel per step for all parameters instead of a dozen small ops per parameter
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=hp.lr, eps=1e-5, fused=True)
        steps_per_update = hp.epochs * hp.minibatches
        self.scheduler = make_scheduler(self.optimizer, hp.warmup_updates * steps_per_update,
                                        hp.total_updates * steps_per_update, hp.lr_floor)
        self.recall = self.recall_optimizer = None
        if hp.recall_coef > 0:  # a training-only head with its own optimiser: checkpoints without it still resume
            self.recall = RecallHead(policy).to(self.device)
            self.recall_optimizer = torch.optim.Adam(self.recall.parameters(), lr=hp.lr, eps=1e-5)

    def restore(self, optimizer: Mapping[str, Any], scheduler: Mapping[str, Any],
                recall: Mapping[str, Any] | None = None) -> None:
        """Load a checkpoint's optimiser and schedule state (and the recall head's), the LRs from this run's config.

        Optimiser and scheduler states hold the LR they were built with: loaded as is, a resumed ``trainer.lr`` would
        be ignored. Only the position (the optimiser steps taken) comes from the checkpoint; peak, warm-up, floor and
        length are this config's, and the next step already uses them.
        """
        if self.recall is not None and recall is not None:
            self.recall.load_state_dict(recall["head"])
            self.recall_optimizer.load_state_dict(recall["optimizer"])
            for group in self.recall_optimizer.param_groups:
                group["lr"] = self.hp.lr  # a constant LR, no schedule
        elif self.recall is not None:
            log.info("the checkpoint has no recall head (trainer.recall_coef was 0): a new one starts training")
        self.optimizer.load_state_dict(optimizer)
        self.scheduler.load_state_dict(scheduler)
        if any(abs(b - self.hp.lr) > 1e-12 for b in self.scheduler.base_lrs):
            log.info("trainer.lr %g replaces the checkpoint's %g", self.hp.lr, self.scheduler.base_lrs[0])
        self.scheduler.base_lrs = [self.hp.lr] * len(self.optimizer.param_groups)
        factor = self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
        for group in self.optimizer.param_groups:
            group["initial_lr"], group["lr"] = self.hp.lr, self.hp.lr * factor

    def _mode(self, training: bool) -> None:
        """Train / eval mode, switched only when it changes (``Module.train`` walks every submodule, per step)."""
        if self.policy.training != training:
            self.policy.train(training)

    def update(self, buf: TrialBuffer, start: int, stop: int, bootstrap: torch.Tensor,
               collected: int | None = None) -> dict[str, float]:
        """PPO epochs with the loss over steps ``[start, stop)`` and the context ``[0, stop)``; ``collected``: the
        first step collected since the previous update (default ``start``; earlier in the full update at T)."""
        with intra_op_threads(self.hp.update_threads):
            return self._update(buf, start, stop, bootstrap, start if collected is None else collected)

    def _update(self, buf: TrialBuffer, start: int, stop: int, bootstrap: torch.Tensor,
                collected: int) -> dict[str, float]:
        hp = self.hp
        adv, ret = gae(buf.reward[:, :stop] * hp.reward_scale, buf.value[:, :stop], buf.done[:, :stop],
                       buf.terminal[:, :stop], bootstrap, hp.gamma, hp.lam)
        if hp.normalize_advantages:
            sel = adv[:, start:stop]
            adv = (adv - sel.mean()) / (sel.std() + 1e-8)
        inputs = buf.inputs(stop)
        # Steps [0, first) are a constant context: their KV cache / recurrent state, computed once without
        # gradients; the gradient covers [first, stop), so an update's cost no longer grows with the trial.
        first = 0 if hp.grad_context < 0 else max(0, start - hp.grad_context)
        refreshed, self._refreshed = self._refreshed, None  # the update changes the weights: the refresh goes stale
        self._mode(training=False)
        # the frames the encoder does not train on: [0, start) with encoder_grad=window, [0, collected) with new, acted
        features = self._old_features(buf, inputs, start if hp.encoder_grad == "window" else collected, refreshed)
        context = None
        if first > 0:
            if refreshed is not None and refreshed[0] == first:
                context = refreshed[1]  # the refresh already computed exactly this context, with these weights
            else:
                prefix = {k: v[:, :first] for k, v in inputs.items()}
                if features is not None:
                    prefix[FEATURE_KEY] = features[:, :first]
                with _autocast(self.device):
                    _, _, context = self.policy.prefill(prefix, max_steps=first)
            inputs = {k: v[:, first:] for k, v in inputs.items()}
        if features is not None:
            inputs[FEATURE_KEY] = features[:, first:]  # the encoder runs on the later frames only, so only they are
            for key in self.policy.encoder.image_keys:  # copied into the minibatches
                inputs[key] = inputs[key][:, inputs[FEATURE_KEY].shape[1]:]
        window = slice(first, stop)
        totals: dict[str, float] = {}
        self._mode(training=True)
        for _ in range(hp.epochs):
            for rows in torch.randperm(buf.num_envs).chunk(hp.minibatches):
                batch = {k: v[rows] for k, v in inputs.items()}
                with _autocast(self.device):
                    if context is None:
                        logits, values = self.module(batch)
                    else:
                        logits, values = self.module(batch, context=self.policy.select_state(context, rows))
                loss, stats = window_loss(logits, values, buf.action[rows, window], buf.logprob[rows, window],
                                          adv[rows, window], ret[rows, window], start - first, stop - first, hp,
                                          buf.oracle[rows, window], buf.oracle_weight[rows, window])
                if self.recall is not None:
                    recall, recall_stats = self.recall.loss(buf.recall[rows, window], start - first, stop - first)
                    loss = loss + hp.recall_coef * recall
                    stats.update(recall_stats)
                    self.recall_optimizer.zero_grad(set_to_none=True)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = nn.utils.clip_grad_norm_(self.policy.parameters(), hp.max_grad_norm)
                self.optimizer.step()
                if self.recall is not None:
                    _average_over_ranks(self.recall.parameters())  # DDP averages only the policy's gradients
                    self.recall_optimizer.step()
                self.scheduler.step()
                stats["grad_norm"] = grad_norm
                for k, v in stats.items():
                    totals[k] = totals.get(k, 0.0) + float(v) / (hp.epochs * hp.minibatches)
        totals["lr"] = self.optimizer.param_groups[0]["lr"]
        totals["imitation_coef"] = hp.imitation_coef
        totals["explained_variance"] = _explained_variance(buf.value[:, start:stop], ret[:, start:stop])
        return totals

    @property
    def window_encoder(self) -> bool:
        """The old frames' features are constants of an update (trainer.encoder_grad=window, new or acted; a frozen
        encoder's are)."""
        return self.hp.encoder_grad in ("window", "new", "acted") and self.policy.trained_encoder

    @property
    def acted_features(self) -> bool:
        """The old frames' features are acting's, stored in the buffer (trainer.encoder_grad=acted)."""
        return self.hp.encoder_grad == "acted" and self.policy.trained_encoder

    @torch.no_grad()
    def encode_acted(self, inputs: Batch) -> torch.Tensor:
        """The acting weights' features of one step's frames ``(B, ...)``, to act on and store with them."""
        if self.actor is self.policy:
            self._mode(training=False)
        encoder = self.actor.encoder
        with _autocast(self.device):
            return encoder(inputs, inputs.get(encoder.goal_key)).float()

    @torch.no_grad()
    def _old_features(self, buf: TrialBuffer, inputs: Batch, start: int,
                      refreshed: tuple[int, Any, torch.Tensor | None] | None) -> torch.Tensor | None:
        """With ``window_encoder``, the visual features of steps ``[0, start)``: acting's with ``acted_features``,
        else the current weights', the last refresh's when it covered them (it ran after the last weight change) or
        computed here; otherwise None."""
        if not self.window_encoder or start == 0:
            return None
        if self.acted_features:
            return buf.features[:, :start]
        if refreshed is not None and refreshed[2] is not None and refreshed[0] >= start:
            return refreshed[2][:, :start]
        return self._encode(inputs, start)

    @torch.no_grad()
    def _encode(self, inputs: Batch, stop: int) -> torch.Tensor:
        """The trained encoder's features of steps ``[0, stop)``, without gradients (in cache-sized calls on a CPU)."""
        encoder, rows = self.policy.encoder, len(next(iter(inputs.values())))
        steps = stop if self.device.type != "cpu" else max(1, CPU_ENCODE_FRAMES // rows)
        with _autocast(self.device):
            return torch.cat([encoder(chunk, chunk.get(encoder.goal_key))
                              for chunk in ({k: v[:, i:min(i + steps, stop)] for k, v in inputs.items()}
                                            for i in range(0, stop, steps))], dim=1)

    @torch.no_grad()
    def refresh(self, buf: TrialBuffer, stop: int, halves: list[slice]) -> list[Any]:
        """Recompute values and log-probs of ``[0, stop)`` with the current weights; return each half's state.

        The whole state is kept too: it is the constant context of the next update when that starts at ``stop``
        (and with a trained encoder the visual features: the next update's old frames with ``window_encoder``;
        with ``acted_features`` the stored ones, encoded by acting).
        """
        self._mode(training=False)
        inputs = buf.inputs(stop)
        with intra_op_threads(self.hp.update_threads), _autocast(self.device):
            features = None
            if self.policy.trained_encoder:
                features = buf.features[:, :stop] if self.acted_features else self._encode(inputs, stop)
                inputs[FEATURE_KEY] = features
            logits, values, state = self.policy.prefill(inputs, max_steps=self.capacity)
        logp = torch.log_softmax(logits.float(), -1).gather(-1, buf.action[:, :stop].unsqueeze(-1))
        buf.value[:, :stop] = values.float()
        buf.logprob[:, :stop] = logp.squeeze(-1)
        self._refreshed = (stop, state, features)
        # Views of the whole state: acting appends to them from ``stop`` on, never touching the context (a rollout
        # is one trial, so no env's cache restarts inside it).
        return [self.policy.select_state(state, rows) for rows in halves]

    def act(self, inputs: Batch, state: Any, generator: torch.Generator | None = None) -> Acted:
        """:meth:`Policy.act` in eval mode, under the learner's autocast: one sampled action per env."""
        if self.actor is self.policy:
            self._mode(training=False)
        with _autocast(self.device):
            return self.actor.act(inputs, state, generator=generator)

    def separate_actor(self) -> None:
        """Act with a copy of the weights, so that an update can run in another thread while acting goes on
        (:meth:`sync_actor` after each update)."""
        self.actor = copy.deepcopy(self.policy).eval()
        for p in self.actor.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def sync_actor(self) -> None:
        """The acting copy takes the current weights (after an update)."""
        if self.actor is not self.policy:
            for a, b in zip(self.actor.parameters(), self.policy.parameters()):
                a.copy_(b)
            for a, b in zip(self.actor.buffers(), self.policy.buffers()):
                a.copy_(b)


def _average_over_ranks(parameters: Iterator[nn.Parameter]) -> None:
    """Average the gradients of ``parameters`` over the ranks of a distributed run (nothing on one process)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        world = torch.distributed.get_world_size()
        for p in parameters:
            if p.grad is not None:
                torch.distributed.all_reduce(p.grad)
                p.grad /= world


def _explained_variance(pred: torch.Tensor, target: torch.Tensor) -> float:
    var = float(target.var())
    return float("nan") if var == 0 else 1.0 - float((target - pred).var()) / var

