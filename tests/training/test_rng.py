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


def test_a_section_in_another_thread_leaves_a_running_sections_stream_where_it_was():
    """review 59 R2-1: a load (or a fit's set-up) in the main thread while a fit's epoch ran in
    another ended without putting back the state it began with: the rest of the epoch drew from
    the load's stream (a seeded fit's dropout depended on what was loaded beside it)."""
    import threading

    def epoch(beside: bool) -> torch.Tensor:
        out, mid, go_on = [], threading.Event(), threading.Event()

        def fit():
            with borrowed_rng():
                torch.manual_seed(0)
                out.append(torch.rand(3))  # batch 1's dropout
                mid.set()
                go_on.wait(10)  # between batches
                out.append(torch.rand(3))  # batch 2's

        t = threading.Thread(target=fit)
        t.start()
        mid.wait(10)
        if beside:
            with borrowed_rng():  # what a load's or a network build's seeding does
                torch.manual_seed(123)
                torch.rand(7)
        go_on.set()
        t.join()
        return torch.cat(out)

    torch.manual_seed(42)
    before = torch.get_rng_state()
    assert torch.equal(epoch(False), epoch(True))
    assert torch.equal(torch.get_rng_state(), before)  # the caller's, once both have ended
