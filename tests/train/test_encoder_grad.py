"""``trainer.encoder_grad=window``: the trained encoder's gradient comes from the loss window's frames only, the older
frames' features are constants computed with the current weights; everything else is the full update's."""
from __future__ import annotations

import copy

import gymnasium
import line_env
import numpy as np
import pytest
import torch
from helpers import filled_buffer, line_train_cfg
from test_learner_speedups import STOP, WINDOW, close, transformer_buffer

from embodied.config import ConfigError
from embodied.learner.checkpoint import config_of
from embodied.learner.buffer import TrialBuffer
from embodied.learner.ppo import PPOHyper, PPOLearner
from embodied.learner.trainer import Trainer
from embodied.policy.encoders import FEATURE_KEY

START = STOP - WINDOW


def _buffer(kind: str):
    """A small GRU or transformer with a trained visual encoder (8x8 images) that has acted STOP steps."""
    if kind == "gru":
        return filled_buffer(num_envs=4, capacity=40, stop=STOP, size=8)
    return transformer_buffer(size=8)


@pytest.mark.parametrize("kind", ["gru", "transformer"])
@pytest.mark.parametrize("prefix", [0, 5, START])
@pytest.mark.parametrize("trimmed", [False, True])
def test_features_for_a_prefix_give_the_full_pass(kind, prefix, trimmed):
    """... with the frames of every step, or only of those after the prefix (``trimmed``)."""
    _, policy, _, buf, _, _ = _buffer(kind)
    policy.eval()
    inputs = buf.inputs(STOP)
    with torch.no_grad():
        logits, values = policy(inputs)
        feats = policy.encoder(inputs)
        frames = inputs["rgb"][:, prefix:] if trimmed else inputs["rgb"]
        got_logits, got_values = policy({**inputs, FEATURE_KEY: feats[:, :prefix], "rgb": frames})
    assert close(got_logits, logits) and close(got_values, values)


@pytest.mark.parametrize("frames", [4, 20, 10_000])
def test_the_refresh_encodes_in_chunks_with_the_same_features(monkeypatch, frames):
    """The refresh's features come from calls of about ``frames`` frames (1 step, 5 steps with a remainder, all
    steps); they are those of one call over every frame."""
    import embodied.learner.ppo as ppo

    _, policy, learner, buf, _, _ = _buffer("gru")
    monkeypatch.setattr(ppo, "CPU_ENCODE_FRAMES", frames)
    calls = []
    handle = policy.encoder.register_forward_hook(lambda module, args, out: calls.append(out.shape[1]))
    learner.refresh(buf, STOP, [slice(0, 2), slice(2, 4)])
    handle.remove()
    step = min(STOP, max(1, frames // buf.num_envs))
    assert calls == [min(step, STOP - i) for i in range(0, STOP, step)]
    policy.eval()
    with torch.no_grad():
        want = policy.encoder(buf.inputs(STOP))
    assert close(learner._refreshed[2], want, 1e-5)


def test_features_of_the_wrong_shape_are_an_error():
    _, policy, _, buf, _, _ = _buffer("gru")
    inputs = buf.inputs(STOP)
    with torch.no_grad():
        feats = policy.encoder(inputs)
    for bad in (feats[:2], feats[:, :, None], torch.cat([feats, feats], 1)):
        with pytest.raises(ValueError, match=FEATURE_KEY):
            policy({**inputs, FEATURE_KEY: bad})
    with pytest.raises(ValueError, match="the image keys hold"):  # frames for neither all steps nor the rest
        policy({**inputs, FEATURE_KEY: feats[:, :5], "rgb": inputs["rgb"][:, 3:]})


def _one_step_update(kind: str, encoder_grad: str, refresh_first: bool = False, start: int = START,
                     collected: int | None = None):
    """One Adam step over all envs (no clipping) from the same weights, the loss over ``[start, STOP)``; the gradients
    it took and the encoder calls."""
    _, policy, learner, buf, _, _ = _buffer(kind)
    learner.hp.epochs, learner.hp.minibatches, learner.hp.max_grad_norm = 1, 1, 1e9
    learner.hp.encoder_grad = encoder_grad
    if refresh_first:
        learner.refresh(buf, START, [slice(0, 2), slice(2, 4)])
    calls = []

    def hook(module, args, out):
        calls.append({"frames": args[0]["rgb"], "out": out})
        if out.requires_grad:
            out.register_hook(lambda g: calls[-1].update(grad=g))

    handle = policy.encoder.register_forward_hook(hook)
    torch.manual_seed(0)
    learner.update(buf, start, STOP, torch.zeros(buf.num_envs), collected)
    handle.remove()
    grads = {n: p.grad.clone() for n, p in policy.named_parameters() if p.grad is not None}
    return grads, calls


@pytest.mark.parametrize("kind", ["gru", "transformer"])
@pytest.mark.parametrize("setting,start", [("window", START), ("new", START), ("new", 0)])
def test_window_gradient_against_the_definition(kind, setting, start):
    """Core: the full update's gradient. Encoder: the vector-Jacobian product of the encoder on the frames collected
    since the previous update with the full update's gradient of the loss at their features; with ``new`` also when
    the loss covers the whole trial (the full update at T)."""
    full, full_calls = _one_step_update(kind, "full", start=start)
    window, _ = _one_step_update(kind, setting, start=start, collected=START)
    (call,) = [c for c in full_calls if "grad" in c]
    _, fresh, _, _, _, _ = _buffer(kind)  # the weights before the step
    encoder = fresh.encoder
    want = torch.autograd.grad(encoder({"rgb": call["frames"][:, START:]}), list(encoder.parameters()),
                               grad_outputs=call["grad"][:, START:])
    names = [n for n, _ in fresh.named_parameters() if n.startswith("tokenizer.encoder.")]
    assert set(window) == set(full)
    for name in full:
        if name in names:
            w = want[names.index(name)]
            assert close(window[name], w, 1e-4), name
            assert not close(full[name], w, 1e-2), name  # the older frames' share, which the window leaves out
        else:
            assert close(window[name], full[name], 1e-4), name


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_after_a_refresh_the_encoder_sees_only_the_window(kind):
    """The refresh's features are the older frames' (the same weights): the update encodes only the new frames
    and takes the same step as one that encodes the old frames itself."""
    cached, calls = _one_step_update(kind, "window", refresh_first=True)
    assert [tuple(c["frames"].shape[:2]) for c in calls] == [(4, WINDOW)]
    computed, calls = _one_step_update(kind, "window")
    assert [tuple(c["frames"].shape[:2]) for c in calls] == [(4, START), (4, WINDOW)]  # old frames once, no grad
    assert not calls[0]["out"].requires_grad
    assert all(close(cached[n], g, 1e-4) for n, g in computed.items())


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_the_full_update_at_t(kind):
    """At T (loss over every step) ``window`` trains the encoder on every frame, as ``full`` does; ``new`` encodes
    only the frames collected since the refresh, whose features it reuses."""
    full, _ = _one_step_update(kind, "full", start=0, collected=START)
    window, calls = _one_step_update(kind, "window", refresh_first=True, start=0, collected=START)
    assert [tuple(c["frames"].shape[:2]) for c in calls] == [(4, STOP)]
    assert all(close(window[n], g, 1e-4) for n, g in full.items())
    _, calls = _one_step_update(kind, "new", refresh_first=True, start=0, collected=START)
    assert [tuple(c["frames"].shape[:2]) for c in calls] == [(4, WINDOW)]


def test_bad_values_and_old_configs():
    _, policy, _, _, _, _ = _buffer("gru")
    with pytest.raises(ValueError, match="trainer.encoder_grad='last'"):
        PPOLearner(policy, PPOHyper(encoder_grad="last"), 8)
    from embodied.commands.train import validate

    cfg = line_train_cfg(encoder_grad="last")
    with pytest.raises(ConfigError, match="trainer.encoder_grad='last'"):
        validate(cfg, [])
    old = line_train_cfg()
    del old.trainer["encoder_grad"]
    assert config_of({"config": old}).trainer.encoder_grad == "full"


def _with_acted_features(buf, policy, weights_noise: float = 0.0):
    """The buffer keeps each step's features as acting encoded them: the current weights' (``weights_noise`` 0) or
    another encoder's, as after the weights moved on."""
    encoder = copy.deepcopy(policy.encoder).eval()
    with torch.no_grad():
        for p in encoder.parameters():
            p.add_(weights_noise * torch.randn_like(p))
        buf.features = encoder(buf.inputs(buf.capacity)).clone()
    return buf.features


@pytest.mark.parametrize("kind", ["gru", "transformer"])
@pytest.mark.parametrize("start", [START, 0])
def test_acted_with_current_features_is_new(kind, start):
    """With the stored features those of the current weights, ``acted`` takes ``new``'s step (checked against the
    definition above), encoding only the frames collected since the previous update, without any refresh."""
    want, _ = _one_step_update(kind, "new", start=start, collected=START)
    _, policy, learner, buf, _, _ = _buffer(kind)
    _with_acted_features(buf, policy)
    learner.hp.epochs, learner.hp.minibatches, learner.hp.max_grad_norm = 1, 1, 1e9
    learner.hp.encoder_grad = "acted"
    calls = []
    handle = policy.encoder.register_forward_hook(lambda module, args, out: calls.append(tuple(out.shape[:2])))
    torch.manual_seed(0)
    learner.update(buf, start, STOP, torch.zeros(buf.num_envs), START)
    handle.remove()
    assert calls == [(4, WINDOW)]
    got = {n: p.grad for n, p in policy.named_parameters() if p.grad is not None}
    assert set(got) == set(want)
    assert all(close(got[n], g, 1e-4) for n, g in want.items())


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_acted_reads_the_old_frames_features_from_the_buffer(kind):
    """Stored features from other weights are what the update and the refresh see for the older frames: the same
    outputs as the policy given them as its features prefix, not the current encoder's."""
    _, policy, learner, buf, _, _ = _buffer(kind)
    stale = _with_acted_features(buf, policy, weights_noise=0.3)
    learner.hp.encoder_grad = "acted"
    seen = []
    handle = policy.register_forward_hook(lambda module, args, out: seen.append(args[0][FEATURE_KEY]))
    learner.update(buf, START, STOP, torch.zeros(buf.num_envs), START)
    handle.remove()
    assert len(seen) == learner.hp.epochs * learner.hp.minibatches  # each minibatch's rows, in a random order
    assert all(any(torch.equal(row, old) for old in stale[:, :START]) for f in seen for row in f)
    learner.refresh(buf, STOP, [slice(0, 2), slice(2, 4)])
    policy.eval()
    with torch.no_grad():
        _, values = policy({**buf.inputs(STOP), FEATURE_KEY: stale[:, :STOP]})
        _, exact = policy(buf.inputs(STOP))
    assert close(buf.value[:, :STOP], values, 1e-5)
    assert not close(buf.value[:, :STOP], exact, 1e-3)


@pytest.mark.parametrize("overlap", [False, True])
def test_acted_training_encodes_each_frame_once_more_per_epoch(tmp_path, overlap):
    """A trial with ``acted``, in line and beside acting: without gradients the encoder sees each frame once, when it
    is acted on (and the bootstrap's look-ahead frames); with gradients once per epoch, in the update after it."""
    cfg = line_train_cfg(encoder_grad="acted", overlap_updates=overlap, epochs=2, rollout_steps=16, update_every=8)
    cfg.env.size = 8
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    frames = {True: 0, False: 0}  # with gradients: frames encoded

    def count(module, args, out):
        frames[out.requires_grad] += out.shape[:-1].numel()

    modules = {id(t.policy): t.policy, id(t.learner.actor): t.learner.actor}.values()  # one, or the acting copy too
    hooks = [m.encoder.register_forward_hook(count) for m in modules]
    try:
        assert t.rollout()
        t._finish_update()
        envs = t.collector.num_envs
        assert frames == {False: envs * (16 + 2), True: 2 * envs * 16}
        assert t.learner.acted_features and t.buffer.features.shape == (envs, 16, 8)
    finally:
        for h in hooks:
            h.remove()
        t.close()


def test_acting_stores_the_features_it_acted_on(tmp_path):
    """Without updates (the weights stay), the stored features are the encoder's of the stored frames; after a trial
    with updates and shuffled episodes they still belong to their frames (the last chunk's, acted with the final
    partial update's weights, checked against those)."""
    cfg = line_train_cfg(encoder_grad="acted", rollout_steps=16, update_every=8)
    cfg.env.size = 8
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    try:
        assert t.rollout(learn=False)
        t.policy.eval()
        with torch.no_grad():
            want = t.policy.encoder(t.buffer.inputs(16))
        assert close(t.buffer.features, want, 1e-5)
        update = t.learner.update
        weights = {}

        def keep_weights(buf, start, stop, *args):  # the weights that act on the steps after this update
            out = update(buf, start, stop, *args)
            weights[stop] = {k: v.clone() for k, v in t.policy.state_dict().items()}
            return out

        t.learner.update = keep_weights
        assert t.rollout()
        acting = copy.deepcopy(t.policy).eval()
        acting.load_state_dict(weights[8])
        with torch.no_grad():
            want = acting.encoder(t.buffer.inputs(16))
        assert close(t.buffer.features[:, 8:], want[:, 8:], 1e-5)
        assert not close(t.buffer.features[:, 8:], t.policy.encoder(t.buffer.inputs(16))[:, 8:].detach(), 1e-3)
    finally:
        t.close()


def test_a_buffer_that_keeps_features_shuffles_them_with_their_frames():
    _, _, _, filled, _, _ = _buffer("gru")
    buf = TrialBuffer({"rgb": gymnasium.spaces.Box(0, 255, (8, 8, 3), np.uint8)}, 4, filled.capacity, feature_dim=3)
    buf.obs["rgb"].copy_(filled.obs["rgb"])
    buf.done.copy_(filled.done)
    weights = torch.arange(8 * 8 * 3, dtype=torch.float32)
    fingerprint = buf.obs["rgb"].float().flatten(2) @ weights  # of each frame
    buf.features[..., 1] = fingerprint
    buf.shuffle_episodes(STOP, np.random.default_rng(0))
    moved = buf.obs["rgb"].float().flatten(2) @ weights
    assert not torch.equal(moved, fingerprint)
    assert torch.equal(buf.features[..., 1], moved)
    with pytest.raises(ValueError, match="encoder_grad=acted"):
        buf.add(slice(0, 4), 0, {"rgb": np.zeros((4, 8, 8, 3), np.uint8)}, torch.zeros(4, dtype=torch.long),
                torch.zeros(4), torch.zeros(4))
