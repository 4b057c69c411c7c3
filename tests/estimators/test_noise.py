"""Noise models: ranges, rates, determinism under a seed, spec parsing and bad specs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from aekit.errors import UsageError
from aekit.estimators.noise import GaussianNoise, MaskingNoise, Noise, SaltPepperNoise, parse_noise


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


X = torch.rand(64, 1, 28, 28, generator=gen(123))


@pytest.mark.parametrize(
    "spec", ["gaussian:0.2", "masking:0.3", "saltpepper:0.05", "gaussian:0.5+saltpepper:0.2"]
)
def test_values_in_unit_range_and_deterministic(spec):
    noise = parse_noise(spec)
    a, b, c = noise(X, gen(1)), noise(X, gen(1)), noise(X, gen(2))
    assert a.shape == X.shape and a.dtype == X.dtype
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(X, torch.rand(64, 1, 28, 28, generator=gen(123)))  # the input is untouched


def test_gaussian_matches_the_recipe():
    x = torch.full((200_000,), 0.5)
    noisy = GaussianNoise(0.2)(x, gen())
    assert abs(float((noisy - x).std()) - 0.2) < 0.005  # clipping hardly matters around 0.5
    assert torch.equal(GaussianNoise(0.0)(X, gen()), X)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.3, 1.0])
def test_masking_rate(p):
    x = torch.full((100_000,), 0.5)
    zeroed = float((MaskingNoise(p)(x, gen()) == 0).float().mean())
    assert abs(zeroed - p) < 0.01


def test_saltpepper_rate_and_colours():
    x = torch.full((100_000,), 0.5)
    out = SaltPepperNoise(0.2)(x, gen())
    assert abs(float((out == 1).float().mean()) - 0.1) < 0.01
    assert abs(float((out == 0).float().mean()) - 0.1) < 0.01
    assert abs(float((out == 0.5).float().mean()) - 0.8) < 0.01


def test_parse_combines_in_order_and_round_trips():
    noise = parse_noise("gaussian:0.2+masking:0.1")
    assert isinstance(noise, Noise)
    assert noise.steps == (GaussianNoise(0.2), MaskingNoise(0.1))
    assert noise.spec == "gaussian:0.2+masking:0.1"
    assert parse_noise(["gaussian:0.2", "masking:0.1"]) == noise
    assert parse_noise(("masking:0.1+saltpepper:0.05",)).spec == "masking:0.1+saltpepper:0.05"
    assert parse_noise(" Gaussian : 0.2 ").spec == "gaussian:0.2"
    assert parse_noise(noise) is noise
    # masking after gaussian: masked values are exactly 0 whatever the gaussian drew
    assert float((noise(torch.full((10_000,), 0.5), gen()) == 0).float().mean()) == pytest.approx(
        0.1, abs=0.01
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["gaussian", "masking", "saltpepper"]), st.floats(0, 1, allow_nan=False)
        ),
        min_size=1,
        max_size=3,
    )
)
@settings(max_examples=40, deadline=None)
def test_spec_round_trip(parts):
    spec = "+".join(f"{k}:{v!r}" for k, v in parts)
    assert parse_noise(parse_noise(spec).spec) == parse_noise(spec)


@pytest.mark.parametrize(
    "bad",
    [
        "gaussian:-0.1",
        "masking:1.5",
        "saltpepper:-0.01",
        "blur:0.2",
        "gaussian",
        "gaussian:abc",
        "gaussian:nan",
        "",
        "+",
        "masking:inf",
        0.2,
        ["gaussian:0.2", 3],
    ],
)
def test_bad_specs_are_one_line_usage_errors(bad):
    with pytest.raises(UsageError) as info:
        parse_noise(bad)
    message = str(info.value)
    assert "\n" not in message and "gaussian:FACTOR" in message and "masking:P" in message


def test_noise_on_the_generators_device_dtype():
    x = torch.rand(4, 3, 5, 5, dtype=torch.float64)
    assert parse_noise("gaussian:0.1+saltpepper:0.1")(x, gen()).dtype == torch.float64
