"""Evaluation on unseen houses: the in-context learning curve with confidence intervals, plot and report.

Public API:

- ``evaluate.evaluate(EvalSettings(...), out_dir) -> metrics`` (what ``embodied eval`` runs): the agent
  and its reference policies over ``trials`` x ``episodes``, on Ray workers or in-process; writes
  ``metrics.json``, ``episodes.jsonl``, ``curve.png``, ``episodes/``, ``videos/`` and ``report.html``.
- ``runner``: chunks of trials, each run by the episode loop (``embodied.rollout.episodes``) with an actor
  from ``embodied.rollout.actor.make_actor("oracle"|"random"|SCRIPTED|CHECKPOINT, fewshot=n)`` (few-shot
  imitation wraps the actor so that the oracle drives the first n episodes of each trial).
- ``stats``: Wilson (success) and Student-t (other metrics) 95% intervals per episode index.
- ``embodied.rollout.actor.PolicyActor.attention()``: attention mass of the newest step over the trial, from the policy's
  ``Policy.attention(state)`` (the Sink-KV transformer's, computed with ``kernels.reference_probs``).
"""
