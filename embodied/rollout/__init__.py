"""Rollout collection: env-worker actors (Ray or in-process), a double-buffered collector, cluster start-up;
and outside training, the actors that choose actions (``actor``) and the one episode loop (``episodes``)
that ``embodied eval`` and ``embodied sim`` run."""
