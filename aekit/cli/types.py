"""argparse types: each turns one command-line word into a checked value, or a one-line error."""

from __future__ import annotations

import argparse


def _plain(text: str) -> str:
    """``text`` if it is written as a plain number: Python's int() and float() also take ``1_000``."""
    if "_" in text or "\0" in text:
        raise argparse.ArgumentTypeError(
            f"expected a number written plainly (no '_' or NUL), got {text!r}"
        )
    return text


def _whole(text: str, minimum: int) -> int:
    try:
        value = int(_plain(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    return _whole(text, 1)


def path_steps(text: str) -> int:
    """Points along a path, both ends included (``aekit interpolate --steps``): a whole number >= 2."""
    return _whole(text, 2)


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    return _whole(text, 0)


def seed_arg(text: str) -> int:
    """A training seed: a whole number in [0, 2**32) (2**32 trained as seed 0 did)."""
    from ..estimators.params import TRAINING_SEEDS

    value = _whole(text, 0)
    if value >= TRAINING_SEEDS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number below 2**32 = {TRAINING_SEEDS}, got {value} (torch and "
            f"scikit-learn keep 32 bits of a seed: {value} would train as {value % TRAINING_SEEDS})"
        )
    return value


def epochs_arg(text: str) -> int | str:
    """A whole number >= 0, or 'auto' (a budget of optimizer steps for the data at hand)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return _whole(text, 0)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 0 or 'auto', got {text!r}"
        ) from None


def number(text: str) -> float:
    """Any number."""
    try:
        value = float(_plain(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value:  # NaN compares with nothing: never a setting
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = number(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    value = positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text}")
    return value


def memory_size(text: str) -> int:
    """'2G' -> 2 * 1024 ** 3 bytes."""
    from ..data import parse_size
    from ..errors import UsageError

    try:
        return parse_size(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def or_auto(parse):
    """``parse``, or the word 'auto' (what a run's config.json records for a size chosen from the
    data, which the option then takes back)."""

    def parsed(text: str):
        return "auto" if text.strip().lower() == "auto" else parse(text)

    parsed.__name__ = parse.__name__  # argparse names the type in its messages
    return parsed


def int_list(text: str) -> tuple[int, ...]:
    """'256,128' -> (256, 128); '' -> ()."""
    try:
        values = tuple(int(v) for v in _plain(text).replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas such as 256,128, got {text!r}"
        ) from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected widths >= 1, got {text!r}")
    return values


def image_size(text: str) -> tuple[int, int]:
    """'28' -> (28, 28); '45x37' (WIDTHxHEIGHT, as Pillow and image tools write it) -> (37, 45).

    The value is aekit's internal ``(height, width)``, the order of an array's ``(C, H, W)`` axes.
    """
    parts = text.lower().replace("×", "x").split("x")
    try:
        size = tuple(int(_plain(p)) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected SIZE or WIDTHxHEIGHT such as 28 or 64x48, got {text!r}"
        ) from None
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(
            f"expected SIZE or WIDTHxHEIGHT such as 28 or 64x48, got {text!r}"
        )
    width, height = size
    return height, width


IMAGE_SIZE_HELP = (
    "resize images to WIDTHxHEIGHT pixels (as Pillow and image tools write it, e.g. 64x48), "
    "or SIZE for a square"
)


def name_list(text: str) -> list[str]:
    """Column names separated by commas: ``a,b,c`` (blanks around a name are dropped)."""
    names = [n.strip() for n in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return names
