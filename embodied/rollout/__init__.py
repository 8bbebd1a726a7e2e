"""Rollout collection: env-worker actors (Ray or in-process), a double-buffered collector, cluster start-up."""
