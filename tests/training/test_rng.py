import torch

from aekit.training.rng import borrowed_rng


def test_one_thread_draws_as_it_drew_under_fork_rng():
    """probe 59 races 4: the counted sections that put the caller's generator back after fits in
    threads leave one thread's draws as fork_rng gave them, nested sections included (the seeded
    results of a fit must not change)."""

    def draws(section):
        torch.manual_seed(5)
        out = []
        with section():
            torch.manual_seed(9)
            out.append(torch.rand(3))
            with section():
                torch.manual_seed(11)
                out.append(torch.rand(3))
            out.append(torch.rand(3))  # the enclosing section's stream, where it was
        out.append(torch.rand(3))  # the caller's
        return torch.cat(out)

    assert torch.equal(draws(borrowed_rng), draws(lambda: torch.random.fork_rng(devices=[])))
