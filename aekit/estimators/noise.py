"""Noise models for denoising: small composable objects parsed from spec strings.

    gaussian:FACTOR    x + FACTOR * N(0, 1), clipped to [0, 1]   (the TF recipe uses 0.2)
    masking:P          each value set to 0 with probability P
    saltpepper:P       each value set to 0 or 1 (even odds) with probability P in total

Specs combine with ``+`` (or as a list) and apply in order: ``"gaussian:0.2+masking:0.1"``.
Every random draw comes from the ``torch.Generator`` passed in, which must live on the
data's device, so training noise is reproducible and resumes exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..errors import UsageError

FORMS = "gaussian:FACTOR (FACTOR >= 0), masking:P or saltpepper:P (P in [0, 1]), joined with '+'"


@dataclass(frozen=True)
class GaussianNoise:
    """Add ``factor`` times standard normal noise, then clip to [0, 1].

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> GaussianNoise(0.2)(torch.full((2, 1, 4, 4), 0.5), g).shape
    torch.Size([2, 1, 4, 4])
    """

    factor: float
    kind = "gaussian"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + self.factor * noise).clamp_(0.0, 1.0)

    @property
    def spec(self) -> str:
        return f"gaussian:{self.factor!r}"


@dataclass(frozen=True)
class MaskingNoise:
    """Set each value to 0 with probability ``p`` (masking / dropout noise).

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> float(MaskingNoise(1.0)(torch.ones(3, 1, 2, 2), g).sum())
    0.0
    """

    p: float
    kind = "masking"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(x.shape, generator=generator, device=x.device)
        return x.masked_fill(u < self.p, 0.0)

    @property
    def spec(self) -> str:
        return f"masking:{self.p!r}"


@dataclass(frozen=True)
class SaltPepperNoise:
    """Set each value to 1 (salt) with probability ``p/2`` and to 0 (pepper) with probability ``p/2``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> sorted(SaltPepperNoise(1.0)(torch.full((1000,), 0.5), g).unique().tolist())
    [0.0, 1.0]
    """

    p: float
    kind = "saltpepper"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        # one draw decides hit and colour
        u = torch.rand(x.shape, generator=generator, device=x.device)
        return x.masked_fill(u < self.p, 0.0).masked_fill(u < self.p / 2, 1.0)

    @property
    def spec(self) -> str:
        return f"saltpepper:{self.p!r}"


Step = GaussianNoise | MaskingNoise | SaltPepperNoise
KINDS = {"gaussian": GaussianNoise, "masking": MaskingNoise, "saltpepper": SaltPepperNoise}


@dataclass(frozen=True)
class Noise:
    """A sequence of noise steps applied in order; ``spec`` gives the string back.

    Examples
    --------
    >>> noise = parse_noise("gaussian:0.2+masking:0.1")
    >>> noise.spec
    'gaussian:0.2+masking:0.1'
    >>> g = torch.Generator().manual_seed(0)
    >>> noisy = noise(torch.rand(8, 1, 28, 28), g)
    >>> bool(noisy.min() >= 0 and noisy.max() <= 1)
    True
    """

    steps: tuple[Step, ...]

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for step in self.steps:
            x = step(x, generator)
        return x

    @property
    def spec(self) -> str:
        return "+".join(step.spec for step in self.steps)

    @property
    def adds_nothing(self) -> bool:
        """Every step at level 0 (``gaussian:0``, ``masking:0``): the noisy images are the clean ones.

        Examples
        --------
        >>> parse_noise("gaussian:0+masking:0").adds_nothing, parse_noise("masking:0.1").adds_nothing
        (True, False)
        """
        return all(getattr(step, "factor", getattr(step, "p", 0.0)) == 0 for step in self.steps)

    def __str__(self) -> str:
        return self.spec


def _number(text: str, part: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"noise {part!r}: {text!r} is not a number; expected {FORMS}") from None
    if not math.isfinite(value):
        raise UsageError(f"noise {part!r}: the value must be finite; expected {FORMS}")
    return value


def _parse_step(part: str) -> Step:
    kind, sep, value = part.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS or not sep:
        raise UsageError(f"unknown noise {part.strip()!r}; expected {FORMS}, e.g. gaussian:0.2")
    number = _number(value.strip(), part.strip())
    if kind == "gaussian":
        if number < 0:
            raise UsageError(f"noise {part.strip()!r}: the factor must be >= 0; expected {FORMS}")
        return GaussianNoise(number)
    if not 0.0 <= number <= 1.0:
        raise UsageError(
            f"noise {part.strip()!r}: the probability must be in [0, 1]; expected {FORMS}"
        )
    return KINDS[kind](number)


def parse_noise(spec: str | Sequence[str] | Noise) -> Noise:
    """Parse ``"gaussian:0.2"``, ``"gaussian:0.2+masking:0.1"`` or a list of such specs into a :class:`Noise`.

    Parameters
    ----------
    spec : str, sequence of str, or Noise
        One or more specs; a list is the same as joining its items with ``+``.

    Returns
    -------
    Noise

    Raises
    ------
    UsageError
        An unknown kind, a negative factor, a probability outside [0, 1] or an empty spec.

    Examples
    --------
    >>> parse_noise(["gaussian:0.2", "masking:0.1"]).spec
    'gaussian:0.2+masking:0.1'
    """
    if isinstance(spec, Noise):
        return spec
    if isinstance(spec, str):
        parts = [spec]
    elif isinstance(spec, (list, tuple)) and all(isinstance(s, str) for s in spec):
        parts = list(spec)
    else:
        raise UsageError(
            f"noise must be a spec string or a list of them, got {spec!r}; expected {FORMS}"
        )
    steps = [_parse_step(p) for text in parts for p in text.split("+") if p.strip()]
    if not steps:
        raise UsageError(f"noise spec {spec!r} is empty; expected {FORMS}")
    return Noise(tuple(steps))
