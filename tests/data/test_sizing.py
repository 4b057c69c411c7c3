"""Sizing: parse_size, the default memory cap, estimate_bytes and should_stream."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.data import default_memory_cap, estimate_bytes, parse_size, should_stream
from aekit.errors import UsageError

from .helpers import one_line_error, write_png, write_table

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1048576", 2**20),
        (4096, 4096),
        ("2G", 2 * 2**30),
        ("2GB", 2 * 2**30),
        ("2GiB", 2 * 2**30),
        ("2gi", 2 * 2**30),
        ("512m", 512 * 2**20),
        ("1.5 GB", 3 * 2**29),
        ("1T", 2**40),
        ("64K", 65536),
        ("100B", 100),
        (" 7 ", 7),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "2X", "two", "-1G", "0", "2 G B", "1e9", "2iB", True])
def test_parse_size_errors(text):
    message = one_line_error(parse_size, text, exc=UsageError, name="--memory-cap")
    assert message.startswith("--memory-cap")


def test_default_memory_cap(monkeypatch):
    monkeypatch.setenv("AEKIT_MEMORY_CAP", "3G")
    assert default_memory_cap() == 3 * 2**30
    monkeypatch.setenv("AEKIT_MEMORY_CAP", "lots")
    one_line_error(default_memory_cap, exc=UsageError, match="AEKIT_MEMORY_CAP")
    monkeypatch.delenv("AEKIT_MEMORY_CAP")
    assert default_memory_cap() > 0


def test_should_stream(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1000, 250), np.float32))  # 1 MB of data
    assert should_stream(tmp_path / "x.npy", 2**20)
    assert not should_stream(tmp_path / "x.npy", 2 * 2**20)
    np.save(tmp_path / "x64.npy", np.zeros((1000, 250)))  # read_path also makes a float32 copy
    assert estimate_bytes(tmp_path / "x64.npy") > estimate_bytes(tmp_path / "x.npy") * 2
    write_table(tmp_path / "t.csv")
    size = (tmp_path / "t.csv").stat().st_size
    assert should_stream(tmp_path / "t.csv", size * 2)  # parsing text takes many times its size
    assert not should_stream(tmp_path / "t.csv", size * 100)
    for i in range(3):
        write_png(tmp_path / "imgs" / f"{i}.png", RNG.integers(0, 256, (32, 32), dtype=np.uint8))
    assert should_stream(tmp_path / "imgs", 32 * 32 * 3)
    assert not should_stream(tmp_path / "imgs", 2**30)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    assert should_stream(tmp_path / "t.parquet", 2**40)  # only the streaming reader reads Parquet
    np.savez(tmp_path / "x.npz", x=np.zeros((1000, 1000)))
    assert not should_stream(tmp_path / "x.npz", 1)  # cannot be streamed
    with pytest.raises(UsageError):
        should_stream(tmp_path / "missing.npy", 1)
