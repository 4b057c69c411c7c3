"""`aekit serve` under load: the ECG5000 detector and the Fashion-MNIST encoder on loopback.

    python benchmarks/bench_serve.py [--clients 1,8,32] [--rows 1,64] [--requests 400] [--seconds 15]

Trains both runs briefly (or takes --ecg-run / --fashion-run), serves them with `aekit serve` in a
fresh process on a free loopback port, and sends JSON inference requests from N client threads at
once (each its own keep-alive connection), 1 or 64 rows a request: the latency of each request
(p50, p99), requests and rows per second. Beside it, the same scoring in this process
(`decision_function`, `transform`) and through onnxruntime (`aekit export`), one call at a time.
Each cell is bounded in requests and in seconds; only loopback is used. Timings are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as C  # noqa: F401  (sets AEKIT_DATA and sys.path)
import numpy as np

LISTENING = re.compile(r"listening on (http://\S+)")


def aekit_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "aekit", *map(str, args)], check=True)


def train_runs(tmp: Path, epochs: int) -> dict[str, Path]:
    runs = {"ecg": tmp / "ecg", "fashion": tmp / "fashion"}
    quiet = ["--no-figures", "--quiet", "--epochs", str(epochs)]
    aekit_cli("train", "anomaly", "--dataset", "ecg5000", "--out", runs["ecg"], *quiet)
    aekit_cli("train", "basic", "--dataset", "fashion-mnist", "--out", runs["fashion"], *quiet)
    return runs


class Server:
    """`aekit serve` in a fresh process (stopped with SIGTERM at the end)."""

    def __init__(self, runs: dict[str, Path], max_batch: int):
        spec = [f"{name}={path}" for name, path in runs.items()]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aekit",
                "serve",
                *spec,
                "--port",
                "0",
                "--max-batch",
                str(max_batch),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for line in self.proc.stderr:
            if m := LISTENING.search(line):
                self.url = m.group(1)
                break
        else:
            raise SystemExit("aekit serve did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def wait_ready(self, client) -> None:
        deadline = time.monotonic() + 300
        while client.get(f"{self.url}/v2/health/ready").status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit("aekit serve never became ready")
            time.sleep(0.2)

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(120)


def body(x: np.ndarray, outputs: list[str]) -> bytes:
    tensor = {
        "name": "input",
        "shape": list(x.shape),
        "datatype": "FP32",
        "data": x.ravel().tolist(),
    }
    return json.dumps({"inputs": [tensor], "outputs": [{"name": n} for n in outputs]}).encode()


def load(url: str, bodies: list[bytes], clients: int, requests: int, seconds: float) -> dict:
    """Latencies of ``requests`` POSTs from ``clients`` threads (stopping after ``seconds``)."""
    import httpx

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    left = [requests]
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(timeout=60) as c:
            j = i
            while time.monotonic() < deadline:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                t0 = time.perf_counter()
                r = c.post(
                    url,
                    content=bodies[j % len(bodies)],
                    headers={"content-type": "application/json"},
                )
                dt = time.perf_counter() - t0
                with lock:
                    (
                        latencies.append(dt)
                        if r.status_code == 200
                        else failures.append(r.text[:200])
                    )
                j += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(latencies, time.perf_counter() - t0, failures)


def summary(latencies: list[float], wall: float, failures: list[str] = ()) -> dict:
    ms = np.array(latencies) * 1000
    return {
        "n": len(latencies),
        "p50": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p99": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
        "rps": len(latencies) / wall if wall else float("nan"),
        "failed": len(failures),
    }


def in_process(fn, batches: list[np.ndarray], requests: int, seconds: float) -> dict:
    """One call at a time, as a single client would call the model in its own process."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    for i in range(requests):
        if time.monotonic() > deadline:
            break
        s = time.perf_counter()
        fn(batches[i % len(batches)])
        latencies.append(time.perf_counter() - s)
    return summary(latencies, time.perf_counter() - t0)


def row(model: str, path: str, clients: str, rows: int, s: dict) -> None:
    failed = f" ({s['failed']} failed)" if s["failed"] else ""
    print(
        f"| {model} | {path} | {clients} | {rows} | {s['p50']:.2f} | {s['p99']:.2f} | "
        f"{s['rps']:.0f} | {s['rps'] * rows:.0f} | {s['n']}{failed} |",
        flush=True,
    )


def onnx_call(path: Path):
    """A function that runs the ONNX file at ``path`` on a batch (onnxruntime, CPU)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = sess.get_inputs()[0].name
    return lambda b: sess.run(None, {feed: b})


def bench_model(name: str, x: np.ndarray, url: str, calls: dict, outputs: list[str], args) -> None:
    """The table's rows of one model: served under each number of clients, in process, onnxruntime."""
    rng = np.random.default_rng(0)
    for rows in (int(r) for r in args.rows.split(",")):
        batches = [x[rng.choice(len(x), rows, replace=False)] for _ in range(32)]
        bodies = [body(b, outputs) for b in batches]
        for clients in (int(n) for n in args.clients.split(",")):
            cell = load(url, bodies, clients, args.requests, args.seconds)
            row(name, "aekit serve", str(clients), rows, cell)
        for path, fn in calls.items():
            row(name, path, "1", rows, in_process(fn, batches, args.requests, args.seconds))


def prepare(args, tmp: Path) -> tuple[dict, dict, dict]:
    """The two runs (trained unless given), their test rows, and the in-process and ONNX calls."""
    import aekit
    from aekit.data import ecg5000_classic_split, load_builtin

    runs = train_runs(tmp, args.epochs) if not (args.ecg_run and args.fashion_run) else {}
    runs = {
        "ecg": Path(args.ecg_run or runs["ecg"]),
        "fashion": Path(args.fashion_run or runs["fashion"]),
    }
    aekit_cli("export", runs["ecg"], "--output", tmp / "ecg.onnx")
    aekit_cli("export", runs["fashion"], "--output", tmp / "fashion.onnx", "--part", "encoder")
    _, ecg_test = ecg5000_classic_split()
    images = load_builtin("fashion-mnist", "test").x[:2048]
    data = {"ecg": ecg_test.x.astype(np.float32), "fashion": images.astype(np.float32)}
    est = {name: aekit.load(path) for name, path in runs.items()}
    calls = {
        "ecg": {"in process": est["ecg"].decision_function},
        "fashion": {"in process": est["fashion"].transform},
    }
    for name in runs:
        calls[name]["onnxruntime"] = onnx_call(tmp / f"{name}.onnx")
    return runs, data, calls


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", default="1,8,32")
    p.add_argument("--rows", default="1,64", help="rows per request")
    p.add_argument("--requests", type=int, default=400, help="requests per cell, at most")
    p.add_argument("--seconds", type=float, default=15.0, help="seconds per cell, at most")
    p.add_argument("--epochs", type=int, default=1, help="training epochs of the two runs")
    p.add_argument("--ecg-run", help="an existing ECG5000 anomaly run (default: train one)")
    p.add_argument("--fashion-run", help="an existing Fashion-MNIST basic run (default: train one)")
    p.add_argument("--max-batch", type=int, default=64, help="aekit serve --max-batch")
    args = p.parse_args()
    import httpx
    import onnxruntime as ort
    import torch

    outputs = {"ecg": ["score", "label"], "fashion": ["latent"]}
    with tempfile.TemporaryDirectory() as tmp:
        runs, data, calls = prepare(args, Path(tmp))
        server = Server(runs, args.max_batch)
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} threads; onnxruntime "
            f"{ort.__version__}; aekit serve --max-batch {args.max_batch}; at most "
            f"{args.requests} requests or {args.seconds:g} s a cell"
        )
        print(
            "| model | path | clients | rows/request | p50 ms | p99 ms | requests/s | rows/s | requests |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        try:
            with httpx.Client(timeout=60) as c:
                server.wait_ready(c)
            for name in ("ecg", "fashion"):
                url = f"{server.url}/v2/models/{name}/infer"
                bench_model(name, data[name], url, calls[name], outputs[name], args)
        finally:
            code = server.stop()
        print(f"aekit serve exited with {code} after SIGTERM")


if __name__ == "__main__":
    main()
