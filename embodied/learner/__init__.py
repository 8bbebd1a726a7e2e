"""PPO with partial updates (after ReLIC): rollout buffer, GAE, losses, LR schedule, checkpoints, trainer."""
