"""torch's process-wide random generators, lent to aekit and given back as the caller left them.

aekit seeds torch's global generator where it cannot hand a generator of its own: a network's
initial weights, and each epoch of a fit (a user's network drawing its dropout from it). Under
``torch.random.fork_rng`` each such section saved the state it began with and put it back at its
end, which two fits in threads interleave: A saved the caller's state, B saved A's seeded one, A
put the caller's back, B put A's seeded one back; after both had ended the caller's generator was
at a fit's seeded stream (a seeded script running a threaded grid search no longer repeated).

So the sections are counted, as :func:`aekit.training.threads.using_threads` counts its calls: the
first to begin in any thread saves the caller's state, the last to end puts it back. Every other
section puts back the state it began with, as fork_rng does: one thread alone draws exactly the
numbers it drew under fork_rng, and a load or a fit's set-up beside a running fit leaves that
fit's seeded stream where it was (review 59 R2-1).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_counting = threading.Lock()
_active = 0  # sections running now, in all threads
_callers: dict[int | None, Any] = {}  # device (None: the CPU, else a CUDA index) -> caller's state
_calls = threading.local()


def _state(device: int | None) -> Any:
    import torch

    return torch.get_rng_state() if device is None else torch.cuda.get_rng_state(device)


def _put(states: dict[int | None, Any]) -> None:
    import torch

    for device, state in states.items():
        if device is None:
            torch.set_rng_state(state)
        else:
            torch.cuda.set_rng_state(state, device)


@contextlib.contextmanager
def borrowed_rng(cuda: int | None = None) -> Iterator[None]:
    """Run the block free to seed torch's global generator (and the CUDA device ``cuda``'s); the
    caller's state is put back once no section of aekit's runs in any thread."""
    global _active
    devices = (None,) if cuda is None else (None, cuda)
    depth = getattr(_calls, "depth", 0)
    own = {d: _state(d) for d in devices}  # put back at the end, unless it is the last to end
    with _counting:
        for device in devices:
            if device not in _callers:  # untouched by the sections running: still the caller's
                _callers[device] = _state(device)
        _active += 1
    _calls.depth = depth + 1
    try:
        yield
    finally:
        _calls.depth = depth
        with _counting:
            _active -= 1
            if _active == 0:
                _put(_callers)
                _callers.clear()
            else:  # another section runs (this thread's enclosing one, or another thread's)
                _put(own)
