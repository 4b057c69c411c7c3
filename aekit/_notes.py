"""Notes: one line each about what aekit did with the user's data (columns left out, cells filled).

A note is not an error and not a warning about a result: the data were usable, and the note says
how they were read so that nothing happens silently. Notes go to the ``aekit.notes`` logger at
WARNING level, so a Python session shows them as plain lines on stderr (logging's last-resort
handler) and the command line prints them as ``aekit: note: ...`` (:func:`aekit.cli.main.main`).
"""

from __future__ import annotations

import logging

LOGGER = "aekit.notes"


def note(message: str, params: tuple[str, ...] = ()) -> None:
    """Say ``message`` (one line) on the notes logger; ``params``: the parameters it names in
    Python's form, which the command line says as its options (:func:`aekit.errors.naming`)."""
    logging.getLogger(LOGGER).warning(" ".join(message.split()), extra={"params": params})
