"""``aekit serve``'s command line: each refusal is one line before anything is served (in-process)."""

from __future__ import annotations

import socket
import sys

import pytest

from ..badinput import cli


def _one_line(code: int, err: str, expected_code: int, *words: str) -> None:
    assert code == expected_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


def test_without_the_extra_one_line_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed: importing it fails
    code, _, err = cli("serve", tmp_path)
    _one_line(code, err, 2, "uvicorn", "pip install 'aekit[serve]'")


@pytest.mark.parametrize(
    "args, words",
    [
        (["{d}/nothing"], ["no such run folder"]),
        (["bad/name={d}"], ["model name", "NAME=RUN"]),
        # probe 59 locale L4: "must be letters" of a name of letters (日本)
        (["\u65e5\u672c={d}"], ["model name '\u65e5\u672c' must be ASCII letters"]),
        (["a={d}", "a={d}"], ["two runs are named 'a'"]),
        (["{d}", "--host", "0.0.0.0"], ["--api-key", "reverse proxy"]),
        (["{d}", "--api-key", " "], ["API key is empty"]),
        (["{d}", "--api-key", "cl\u00e9"], ["printable ASCII"]),  # UTF-8 clients never match it
        (["{d}", "--host", "no-such-host.invalid", "--insecure"], ["--host"]),
        # an address no interface here holds (TEST-NET-1): the host is wrong, not the port
        (["{d}", "--host", "192.0.2.1", "--insecure"], ["--host 192.0.2.1", "not an address"]),
        (["{d}", "--max-batch", "0"], ["--max-batch"]),
        (["{d}", "--port", "70000"], ["--port", "65535"]),
        (["{d}", "--max-body", "lots"], ["--max-body"]),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, words):
    pytest.importorskip("uvicorn")
    code, _, err = cli("serve", *[a.format(d=tmp_path) for a in args])
    _one_line(code, err, 2, *words)


def test_a_file_given_as_a_run_is_said_to_be_one(tmp_path):
    # lifecycle probe 58 #4: an exported model or a run's config.json was "no such run folder"
    pytest.importorskip("uvicorn")
    (tmp_path / "w1.onnx").write_bytes(b"onnx")
    code, _, err = cli("serve", f"x={tmp_path / 'w1.onnx'}")
    _one_line(code, err, 2, "w1.onnx is a file", "run folders", "onnxruntime")


def test_a_busy_port_is_one_line_and_exit_1(tmp_path):
    pytest.importorskip("uvicorn")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = cli("serve", tmp_path, "--port", port)
    _one_line(code, err, 1, f"127.0.0.1:{port}", "--port")
