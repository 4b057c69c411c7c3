"""Training speed beside CPU-bound neighbours: threads, the OpenMP wait policy and aekit's automatic choice.

    python benchmarks/bench_contention.py                         # every recipe, 0/1/2 neighbours: 60 fresh processes
    python benchmarks/bench_contention.py --neighbours 0 2 --configs today auto   # the acceptance figures
    python benchmarks/bench_contention.py --recipes anomaly --neighbours 0 2 --configs today auto
    python benchmarks/bench_contention.py --demo                  # `make demo` quiet, then beside 2 neighbours

Each recipe's training (its model and batch on the real data; a subset or a set number of
epochs keeps a run to a few seconds) runs in a fresh process per configuration, so that the
OpenMP environment takes effect, alone and beside N CPU-bound processes (pure-Python busy loops
that this script starts before and stops after each group). Configurations:

* ``today``: torch's default threads (one per core it may use) and the OpenMP runtime's default
  wait (libgomp spins a while at each barrier): what aekit did before it chose threads;
* ``T/active``, ``T/passive``: T intra-op threads with ``OMP_WAIT_POLICY`` ACTIVE (spin) or PASSIVE
  (sleep), for T = 1 and 2;
* ``auto``: what ``aekit train`` does now: a short spin set before torch starts, threads chosen
  by aekit.training.threads (the ``threads`` column shows the choice).

Printed for each: training wall seconds and CPU seconds (all threads of the process), and the
ratio to the same configuration alone. Timings are printed, never asserted; the load average
at the start and end of each group is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# recipe -> (settings over the recipe's defaults, training samples used; None = all)
RECIPES = {
    "basic": ({"epochs": 1}, None),  # Fashion-MNIST, 784-32-784, batch 32: one epoch of 60k
    "denoise": ({"epochs": 1}, 20_000),  # conv denoiser, batch 32
    # ECG5000 normals, the detector's defaults (140-64-32-8, batch 64); a fixed 40 epochs (~1,600
    # steps, about its budget of epochs="auto") without early stopping, so every run does the same work
    "anomaly": ({"epochs": 40, "patience": None}, None),
    "vae": ({"epochs": 1}, 10_000),  # conv VAE on binarized MNIST, batch 32
}
WAIT_VARS = (
    "OMP_WAIT_POLICY",
    "KMP_BLOCKTIME",
    "GOMP_SPINCOUNT",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)
CONFIGS = ("today", "1/active", "2/active", "1/passive", "2/passive", "auto")
# One thread meets no other at a barrier, so its wait policy does not matter: 1/active is left out
# by default (--configs 1/active adds it).
DEFAULT_CONFIGS = ("today", "2/active", "1/passive", "2/passive", "auto")
BUSY_LOOP = "while True: pass"


def child_env(config: str) -> dict[str, str]:
    """The environment of a training process for ``config`` (no inherited OpenMP settings)."""
    env = {k: v for k, v in os.environ.items() if k not in WAIT_VARS}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    if "AEKIT_DATA" not in env and (REPO.parent / "shared" / "datasets").is_dir():
        env["AEKIT_DATA"] = str(REPO.parent / "shared" / "datasets")
    if "/" in config:
        env["OMP_WAIT_POLICY"] = config.split("/")[1].upper()
    return env


def child(recipe_name: str, config: str) -> None:
    """Train one recipe under one configuration; print a JSON line of what it took."""
    if config == "auto":
        from aekit.training.threads import use_short_spin

        use_short_spin()  # what the CLI does first, before torch is imported
    from aekit.recipes.base import get_recipe
    from aekit.recipes.spec import DataSpec

    settings, n = RECIPES[recipe_name]
    if config == "today":  # torch's own thread count: the cores it may use
        import torch

        threads = torch.get_num_threads()
    else:
        threads = None if config == "auto" else int(config.split("/")[0])
    recipe = get_recipe(recipe_name)
    est = recipe.build({**settings, "threads": threads, "device": "cpu"})
    train, val = recipe.load_data(DataSpec(), int(est.seed))
    if n is not None:
        train = train.subset(slice(0, n))
    val = val.subset(slice(0, 2000))
    wall, cpu = time.perf_counter(), time.process_time()
    from aekit import Trainer

    recipe.fit(est, train, val, Trainer())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "threads": est.threads_["intra_op"],
                "reason": est.threads_["reason"],
                "epochs": len(est.history_),
            }
        )
    )


def run_child(recipe: str, config: str) -> dict:
    cmd = [sys.executable, __file__, "--child", recipe, config]
    proc = subprocess.run(cmd, env=child_env(config), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{recipe} {config} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Neighbours:
    """N CPU-bound processes (busy loops), running for the duration of the block."""

    def __init__(self, n: int):
        self.n, self.procs = n, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(self.n)]
        time.sleep(0.5 if self.n else 0)  # let them get going
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    import torch

    info = torch.__config__.parallel_info()
    omp = (
        "GNU libgomp"
        if "libgomp" in str(list(Path(torch.__file__).parent.glob("lib/libgomp*")))
        else next(
            (line.strip() for line in info.splitlines() if line.strip().startswith("OpenMP")),
            "no OpenMP",
        )
    )
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return (
        f"{platform.processor() or platform.machine()}, {cores} cores usable of {os.cpu_count()}, "
        f"torch {torch.__version__}, OpenMP: {omp}"
    )


def contention(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    print(f"load at start: {loadavg()}   (fields: 1/5/15-min load averages, runnable/total tasks)")
    rows: dict[tuple[str, int, str], dict] = {}
    t0 = time.perf_counter()
    for n in args.neighbours:
        with Neighbours(n):
            print(f"\n-- beside {n} CPU-bound process(es); load {loadavg()}", flush=True)
            print(
                f"{'recipe':8s} {'config':10s} {'threads':>7s} {'wall s':>8s} {'CPU s':>8s} "
                f"{'wall/alone':>10s} {'CPU/alone':>9s}"
            )
            for recipe in args.recipes:
                for config in args.configs:
                    runs = [run_child(recipe, config) for _ in range(args.repeat)]
                    r = min(runs, key=lambda x: x["wall"])  # the least disturbed of the repeats
                    rows[recipe, n, config] = r
                    alone = rows.get((recipe, 0, config))
                    ratio = f"{r['wall'] / alone['wall']:9.2f}x" if alone and n else ""
                    cratio = f"{r['cpu'] / alone['cpu']:8.2f}x" if alone and n else ""
                    print(
                        f"{recipe:8s} {config:10s} {r['threads']:7d} {r['wall']:8.2f} {r['cpu']:8.2f} "
                        f"{ratio:>10s} {cratio:>9s}"
                        + (f"   ({r['reason']})" if config == "auto" else ""),
                        flush=True,
                    )
            print(f"   load at the end of the group: {loadavg()}")
    summary(rows, args)
    print(f"\nbenchmark took {time.perf_counter() - t0:.0f} s")


def summary(rows: dict, args: argparse.Namespace) -> None:
    """The issue's acceptance figures: auto beside the most neighbours vs alone; auto alone vs today alone."""
    most = max(args.neighbours)
    if "auto" not in args.configs or 0 not in args.neighbours:
        return
    print("\nsummary (auto = aekit's choice; today = torch's default threads and wait):")
    for recipe in args.recipes:
        a0 = rows[recipe, 0, "auto"]
        line = f"  {recipe:8s} auto alone {a0['wall']:.2f} s wall, {a0['cpu']:.2f} s CPU"
        if most:
            line += f"; beside {most}: {rows[recipe, most, 'auto']['wall'] / a0['wall']:.2f}x its time alone"
        if "today" in args.configs:
            t0 = rows[recipe, 0, "today"]
            line += f"; alone vs today: wall {a0['wall'] / t0['wall']:.2f}x, CPU {a0['cpu'] / t0['cpu']:.2f}x"
            if most:
                line += f" (today beside {most}: {rows[recipe, most, 'today']['wall'] / t0['wall']:.2f}x)"
        print(line)


def demo(args: argparse.Namespace) -> None:
    """`make demo` (scripts/demo.py) quiet, then beside 2 CPU-bound neighbours: wall and CPU time."""
    print(f"machine: {machine()}")
    walls = {}
    for n in args.neighbours:
        with tempfile.TemporaryDirectory() as out, Neighbours(n):
            print(f"\n-- make demo beside {n} CPU-bound process(es); load {loadavg()}", flush=True)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            code = subprocess.call(
                [sys.executable, str(REPO / "scripts" / "demo.py"), out],
                env=child_env("demo"),
                stdout=None if args.verbose else subprocess.DEVNULL,
            )
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if code:
            raise SystemExit(f"demo failed (exit {code}); rerun with --verbose")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        walls[n] = wall
        ratio = f", {wall / walls[0]:.2f}x the quiet wall time" if n and 0 in walls else ""
        print(
            f"demo beside {n}: {wall:.0f} s wall, {cpu:.0f} s CPU{ratio}; load at the end {loadavg()}",
            flush=True,
        )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    p.add_argument(
        "--neighbours", nargs="+", type=int, default=[0, 1, 2], help="CPU-bound processes beside"
    )
    p.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(DEFAULT_CONFIGS))
    p.add_argument(
        "--repeat", type=int, default=1, help="runs per configuration; the fastest is shown"
    )
    p.add_argument(
        "--demo", action="store_true", help="time `make demo` instead (--neighbours 0 2 by default)"
    )
    p.add_argument("--verbose", action="store_true", help="show the demo's output")
    args = p.parse_args()
    if args.demo:
        if args.neighbours == [0, 1, 2]:
            args.neighbours = [0, 2]
        return demo(args)
    if 0 not in args.neighbours:
        args.neighbours = [0, *args.neighbours]  # ratios need the time alone
    args.neighbours = sorted(set(args.neighbours))
    contention(args)


if __name__ == "__main__":
    main()
