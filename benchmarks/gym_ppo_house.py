"""CleanRL-style PPO on ``embodied/House-v0`` through gymnasium only (no ``embodied`` training code).

Shows an outside RL stack picking the simulator up. The agent sees the frames through the platform's shipped,
house-pretrained CNN (``house_cnn32``, frozen: a perception model like a pretrained ResNet, not training code);
``--encoder scratch`` learns a CNN from reward alone instead, which in 10 CPU minutes heads for the goal but
never learns when to stop (success 0, as with our own trainer). The vector env
(``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``) gives one batched simulator of
``--num-envs`` houses (SAME_STEP autoreset: the observation after an ending step is already the next
episode's first, so no special handling is needed beyond not bootstrapping across ``terminated``). Prints the
success rate of finished episodes per update and, at the end, the success of the trained policy and of a
uniform random one on the test houses.

    python benchmarks/gym_ppo_house.py [--minutes 4] [--num-envs 32] [--resolution 32]
    python benchmarks/gym_ppo_house.py --minutes 10                   # the README's figure
    python benchmarks/gym_ppo_house.py --minutes 10 --encoder scratch  # a CNN trained from reward alone

The last line of stdout is one JSON object: ``ppo_success``, ``random_success`` (test houses, sampled actions),
``minutes``, ``env_steps``, ``encoder``.
"""
from __future__ import annotations

import argparse
import json
import time

import gymnasium
import numpy as np
import torch
from torch import nn

import envs  # noqa: F401  (registers the embodied/* ids)


class Agent(nn.Module):
    """Image features plus the goal one-hot and GPS -> an MLP; separate policy and value heads.

    ``encoder``: a frozen feature extractor of the RGB-D frames (and goal), or None for a small CNN trained
    with the policy.
    """

    def __init__(self, obs_space: gymnasium.spaces.Dict, num_actions: int, encoder: nn.Module | None = None):
        super().__init__()
        self.encoder = encoder
        if encoder is None:
            self.cnn = nn.Sequential(nn.Conv2d(4, 16, 5, 2), nn.ReLU(), nn.Conv2d(16, 32, 3, 2), nn.ReLU(),
                                     nn.AdaptiveAvgPool2d(4), nn.Flatten())
        width = 32 * 16 if encoder is None else encoder.feature_dim
        extra = obs_space["goal"].shape[0] + obs_space["gps"].shape[0]
        self.body = nn.Sequential(nn.Linear(width + extra, 256), nn.ReLU())
        self.pi, self.v = nn.Linear(256, num_actions), nn.Linear(256, 1)

    def features(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.encoder is not None:
            with torch.no_grad():
                seen = self.encoder({"rgb": obs["rgb"], "depth": obs["depth"]}, obs["goal"])
        else:
            image = torch.cat([obs["rgb"].float() / 255, obs["depth"].clamp(max=10) / 10], -1).permute(0, 3, 1, 2)
            seen = self.cnn(image)
        return self.body(torch.cat([seen, obs["goal"], obs["gps"]], -1))

    def act(self, obs, action=None):
        h = self.features(obs)
        dist = torch.distributions.Categorical(logits=self.pi(h))
        action = dist.sample() if action is None else action
        return action, dist.log_prob(action), dist.entropy(), self.v(h).squeeze(-1)


def pretrained_encoder(name: str, num_goals: int, resolution: int) -> nn.Module:
    """The platform's shipped house CNN, frozen, as a plain torch module, built with the settings its training
    report (``<name>.json`` beside the weights) records."""
    from embodied.policy.encoders import VisualEncoder, weights_path

    trained = json.loads(weights_path(name).with_suffix(".json").read_text())["config"]
    if trained["resolution"] != resolution:
        raise SystemExit(f"--encoder {name} was trained on {trained['resolution']} px frames; use --resolution "
                         f"{trained['resolution']} or --encoder scratch")
    e = trained["encoder"]
    images = {"rgb": 3, "depth": 1} if e["use_depth"] else {"rgb": 3}
    return VisualEncoder(e["name"], e["feature_dim"], images, channels=e["channels"], grid=e["grid"],
                         goal_size=num_goals if e["goal"] else 0, frozen=True, weights=name).eval()


def _torch(obs: dict) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v) for k, v in obs.items()}


def success_rate(vec, policy, steps: int) -> float:
    obs, _ = vec.reset(seed=1)
    wins, ends = 0.0, 0
    for _ in range(steps):
        obs, _, _, _, info = vec.step(policy(obs))
        if "final_info" in info:
            done = info["_final_info"]
            wins, ends = wins + float(np.nansum(info["final_info"]["success"][done])), ends + int(done.sum())
    return wins / max(ends, 1)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=4.0)
    p.add_argument("--num-envs", type=int, default=32)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--max-steps", type=int, default=100)
    p.add_argument("--rollout", type=int, default=64)
    p.add_argument("--encoder", default="house_cnn32",
                   help="shipped weights of a frozen house CNN (at the resolution it was trained on), or 'scratch' "
                        "to train a CNN with PPO")
    a = p.parse_args(argv)
    torch.manual_seed(0)
    kw = {"resolution": a.resolution, "max_steps": a.max_steps, "episodes_per_trial": 1}
    vec = gymnasium.make_vec("embodied/House-v0", num_envs=a.num_envs, vectorization_mode="vector_entry_point", **kw)
    space = vec.single_observation_space
    encoder = None if a.encoder == "scratch" else pretrained_encoder(a.encoder, space["goal"].shape[0], a.resolution)
    agent = Agent(space, int(vec.single_action_space.n), encoder)
    opt = torch.optim.Adam([q for q in agent.parameters() if q.requires_grad], lr=2.5e-4, eps=1e-5)
    obs, _ = vec.reset(seed=0)
    start, update, env_steps = time.time(), 0, 0
    while time.time() - start < a.minutes * 60:
        batch, logps, values, rewards, nonterminal = [], [], [], [], []
        wins, ends = 0.0, 0
        with torch.no_grad():
            for _ in range(a.rollout):
                o = _torch(obs)
                action, logp, _, value = agent.act(o)
                obs, reward, term, trunc, info = vec.step(action.numpy())
                batch.append((o, action))
                logps.append(logp)
                values.append(value)
                rewards.append(torch.as_tensor(reward, dtype=torch.float32))
                nonterminal.append(torch.as_tensor(~term, dtype=torch.float32))
                if "final_info" in info:
                    done = info["_final_info"]
                    wins += float(np.nansum(info["final_info"]["success"][done]))
                    ends += int(done.sum())
            last_value = agent.act(_torch(obs))[3]
        # GAE; at an episode's end the next value belongs to the next episode, so it is cut at terminated and
        # (lacking the final observation) approximated by it at truncation.
        adv, gae = torch.zeros(a.rollout, a.num_envs), torch.zeros(a.num_envs)
        for t in reversed(range(a.rollout)):
            nxt = last_value if t == a.rollout - 1 else values[t + 1]
            delta = rewards[t] + 0.99 * nxt * nonterminal[t] - values[t]
            gae = delta + 0.99 * 0.95 * nonterminal[t] * gae
            adv[t] = gae
        returns = adv + torch.stack(values)
        flat = {k: torch.cat([b[0][k] for b in batch]) for k in batch[0][0]}
        actions, old_logp = torch.cat([b[1] for b in batch]), torch.cat(logps)
        adv_f, ret_f = adv.reshape(-1), returns.reshape(-1)
        for _ in range(4):
            for idx in torch.randperm(len(actions)).split(len(actions) // 4):
                _, logp, ent, value = agent.act({k: v[idx] for k, v in flat.items()}, actions[idx])
                ratio = (logp - old_logp[idx]).exp()
                a_n = (adv_f[idx] - adv_f[idx].mean()) / (adv_f[idx].std() + 1e-8)
                pg = torch.max(-a_n * ratio, -a_n * ratio.clamp(0.8, 1.2)).mean()
                loss = pg + 0.5 * (value - ret_f[idx]).pow(2).mean() - 0.01 * ent.mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                opt.step()
        update += 1
        env_steps += a.rollout * a.num_envs
        print(f"update {update} ({time.time() - start:.0f} s): success {wins / max(ends, 1):.3f} over {ends} episodes",
              flush=True)

    def sampled(o):  # the policy as trained (arg-max rarely picks stop: it must be sure)
        with torch.no_grad():
            return agent.act(_torch(o))[0].numpy()

    # evaluation on the test houses, never seen in training
    test = gymnasium.make_vec("embodied/House-v0", num_envs=a.num_envs, vectorization_mode="vector_entry_point",
                              **{**kw, "split": "test"})
    rng = np.random.default_rng(0)
    trained = success_rate(test, sampled, 4 * a.max_steps)
    random = success_rate(test, lambda o: rng.integers(0, 6, a.num_envs), 4 * a.max_steps)
    print(f"success: PPO {trained:.3f}, random {random:.3f}")
    print(json.dumps({"ppo_success": trained, "random_success": random, "minutes": a.minutes,
                      "env_steps": env_steps, "encoder": a.encoder}))


if __name__ == "__main__":
    main()
