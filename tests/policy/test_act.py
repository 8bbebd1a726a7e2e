"""``Policy.act``, the one place where acting turns a step's logits into actions: its outputs are the step's,
greedy is the arg-max, and sampling follows the policy's distribution, reproducibly from the generator."""
from __future__ import annotations

import torch
from policy_inputs import at, small_policy, trial_batch
from test_recurrent_cell import recurrent


def test_act_is_the_step_with_an_action_drawn_from_its_distribution(seed):
    for net in (small_policy(seed), recurrent(seed, cell="lstm").eval()):
        inputs = at(trial_batch(4, 1, seed), 0)
        state = net.initial_state(4, 8)
        logits, value, _ = net.step(inputs, net.initial_state(4, 8))
        logp = torch.log_softmax(logits, -1)
        greedy = net.act(inputs, state, greedy=True)
        assert torch.equal(greedy.action, logits.argmax(-1))
        torch.testing.assert_close(greedy.value, value)
        torch.testing.assert_close(greedy.logprob, logp.gather(-1, greedy.action[:, None])[:, 0])
        draws = torch.stack([net.act(inputs, state, generator=torch.Generator().manual_seed(i)).action
                             for i in range(1000)])
        again = torch.stack([net.act(inputs, state, generator=torch.Generator().manual_seed(i)).action
                             for i in range(1000)])
        assert torch.equal(draws, again)  # the generator alone decides
        freq = torch.stack([(draws == a).float().mean(0) for a in range(logits.shape[-1])], -1)
        assert (freq - logp.exp()).abs().max() < 0.07  # 1000 draws: 4.4 standard errors at p = 0.5
