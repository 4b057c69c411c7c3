"""Help that tells: each family's own defaults and presets, filled in when the help is printed.

The defaults live in the estimators and recipes, which import torch; building the parser must not
(``aekit --help`` stays under half a second). So ``aekit train FAMILY --help`` looks them up at the
moment it prints, and appends ``(default: X)`` to every option that sets an estimator parameter.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def fill_when_printed(
    parser: argparse.ArgumentParser, fill: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Run ``fill(parser)`` once, just before ``parser``'s help is first formatted (several fills
    of one parser each run once, the last registered first)."""
    plain = parser.format_help
    done = False

    def format_help() -> str:
        nonlocal done
        if not done:
            done = True
            fill(parser)
        return plain()

    parser.format_help = format_help


def show(value: Any) -> str:
    """A default as the command line would write it: (256, 128) -> 256,128; () and None -> none."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value)) if value else "none"
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def family_defaults(family: str) -> Callable[[argparse.ArgumentParser], None]:
    """A ``fill`` for ``aekit train FAMILY``: the recipe's defaults and the names of its presets."""

    def fill(parser: argparse.ArgumentParser) -> None:
        from ..recipes import get_recipe

        recipe = get_recipe(family)
        # the estimator's defaults under the recipe's
        params = recipe.build({}).get_params(deep=False)
        for action in parser._actions:
            if action.dest == "out" and action.help is not None:
                action.help = action.help.replace("FAMILY", family)
            elif action.dest == "preset" and action.help is not None:
                action.help += f": {', '.join(recipe.presets) or '(none)'}"
            elif action.dest in params and action.help is not None and "default" not in action.help:
                action.help += f" (default: {show(params[action.dest])})"

    return fill
