"""Scoring on a Dask cluster: a LocalCluster of 2 worker processes on 127.0.0.1, started here and closed
at the end of the module, scores a 200,000-row Parquet dataset in 8 parts as one process does."""

from __future__ import annotations

import resource

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import aekit  # noqa: E402
import aekit.dask  # noqa: E402
from aekit.dask import models  # noqa: E402
from aekit.errors import UsageError  # noqa: E402

from ..cli.helpers import cli_here  # noqa: E402

ROWS, PARTS, FEATURES = 200_000, 8, [f"f{i}" for i in range(8)]
WORKER_MEMORY = 2 * 2**30  # Dask's own limit per worker; the peak measured is reported below it


def table(n: int, seed: int, first_id: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))).astype(np.float32), columns=FEATURES)
    df.insert(0, "user_id", np.arange(first_id, first_id + n, dtype=np.int64) * 7)
    df["note"] = "text the model does not read"
    return df


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small detector run, the dataset in 8 Parquet parts, and the cluster."""
    root = tmp_path_factory.mktemp("dask")
    table(2000, 0).drop(columns="note").to_csv(root / "train.csv", index=False)
    cli_here(
        "train", "anomaly", "--data", root / "train.csv", "--id-column", "user_id",
        "--epochs", "2", "--members", "1", "--density", "0", "--device", "cpu",
        "--out", root / "run", "--quiet",
    )  # fmt: skip
    (root / "data").mkdir()
    size = ROWS // PARTS
    for i in range(PARTS):
        table(size, i + 1, first_id=i * size).to_parquet(root / "data" / f"part-{i}.parquet")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=WORKER_MEMORY,
    )
    client = distributed.Client(cluster)
    yield {"root": root, "run": root / "run", "cluster": cluster, "client": client}
    client.close()
    cluster.close()


def single_process(world) -> pd.DataFrame:
    """The whole dataset scored by aekit in this process."""
    data = pd.concat(
        [pd.read_parquet(p) for p in sorted((world["root"] / "data").glob("*.parquet"))]
    )
    scores = aekit.load(world["run"]).decision_function(data[FEATURES].to_numpy())
    return pd.DataFrame({"user_id": data["user_id"].to_numpy(), "score": scores})


def _vm_hwm() -> int:
    """This process's peak resident memory in bytes: VmHWM, its own address space's high-water mark.
    (Not getrusage's ru_maxrss: Linux keeps that across exec, so a worker started from a large
    pytest process would report its parent's size.)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: the best there is


def peak_rss(client) -> dict[str, int]:
    """Each worker process's peak resident memory so far, in bytes."""
    return client.run(_vm_hwm)


def test_cli_scores_each_part_on_the_cluster_as_one_process_does(world):
    out = world["root"] / "scores"
    proc = cli_here(
        "score", world["run"], "--input", str(world["root"] / "data" / "*.parquet"),
        "--output", out, "--dask", world["cluster"].scheduler_address,
    )  # fmt: skip
    assert f"wrote {ROWS} scores in {PARTS} parts" in proc.stdout
    parts = sorted(out.glob("*.parquet"))  # and aekit's manifest, which Parquet readers skip
    assert [p.name for p in parts] == [f"part-{i}.parquet" for i in range(PARTS)]
    assert sorted(p.name for p in out.iterdir()) == [
        ".aekit-manifest.json",
        *(p.name for p in parts),
    ]
    for i, part in enumerate(parts):  # one part per input part, its ids in its order
        got = pd.read_parquet(part)
        assert list(got.columns) == ["user_id", "score", "is_anomaly", "p_value"]
        size = ROWS // PARTS
        np.testing.assert_array_equal(got["user_id"], np.arange(i * size, (i + 1) * size) * 7)
    got = pd.concat([pd.read_parquet(p) for p in parts])
    want = single_process(world)
    np.testing.assert_array_equal(got["user_id"], want["user_id"])
    np.testing.assert_allclose(got["score"], want["score"], rtol=0, atol=1e-6)
    threshold = aekit.load(world["run"]).threshold_
    np.testing.assert_array_equal(got["is_anomaly"], (want["score"] > threshold).astype(int))
    peaks = peak_rss(world["client"])
    print(f"\npeak memory per worker: {', '.join(f'{v / 2**20:.0f} MiB' for v in peaks.values())}")
    assert len(peaks) == 2 and all(v < WORKER_MEMORY / 2 for v in peaks.values()), peaks


def test_score_maps_partitions_of_a_dask_dataframe(world):
    ddf = dd.read_parquet(str(world["root"] / "data" / "*.parquet"))
    scores = aekit.dask.score(world["run"], ddf)  # the run's recorded id column is kept
    assert list(scores.columns) == ["user_id", "score", "is_anomaly", "p_value"]
    got = scores.compute()
    want = single_process(world)
    np.testing.assert_array_equal(got["user_id"], want["user_id"])
    np.testing.assert_allclose(got["score"], want["score"], rtol=0, atol=1e-6)


def test_the_model_is_loaded_once_per_worker_not_sent_with_tasks(world):
    rows = table(4000, 9)
    ddf = dd.from_pandas(rows, npartitions=16)
    scores = aekit.dask.score(world["run"], ddf, threshold="percentile", q=99.0)
    got = scores.compute()
    det = aekit.load(world["run"]).set_params(threshold="percentile", q=99.0)
    key = models.key_of(models.model_files(det))  # the tasks carry this key, not the weights
    assert world["client"].run(models.loads, key) == dict.fromkeys(
        world["client"].scheduler_info()["workers"], 1
    )
    x = rows[FEATURES].to_numpy()
    np.testing.assert_allclose(got["score"], det.decision_function(x), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got["is_anomaly"], det.predict(x))


def test_a_bad_part_leaves_no_output_and_no_staging(world):
    data = world["root"] / "bad"
    data.mkdir()
    table(100, 1).to_parquet(data / "a.parquet")
    table(100, 2).drop(columns="f3").to_parquet(data / "b.parquet")
    proc = cli_here(
        "score", world["run"], "--input", str(data / "*.parquet"), "--output",
        world["root"] / "bad-scores", "--dask", world["cluster"].scheduler_address, check=2,
    )  # fmt: skip
    assert proc.stderr.strip().splitlines() == [
        f"aekit: error: {data / 'b.parquet'}: missing the model's columns f3"
    ]
    assert not any(
        p.name.startswith((".bad-scores", "bad-scores")) for p in world["root"].iterdir()
    )


def test_an_existing_output_is_refused_before_any_work(world):
    out = world["root"] / "exists"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    proc = cli_here(
        "score", world["run"], "--input", str(world["root"] / "data" / "*.parquet"),
        "--output", out, "--dask", "tcp://127.0.0.1:9", check=2,
    )  # fmt: skip
    assert "holds your files mine.txt, which aekit never deletes" in proc.stderr
    assert (out / "mine.txt").read_text() == "keep"
    proc = cli_here(
        "score", world["run"], "--input", str(world["root"] / "data" / "*.parquet"),
        "--output", out, "--dask", "tcp://127.0.0.1:9", "--overwrite", check=2,
    )  # fmt: skip
    assert "holds your files mine.txt" in proc.stderr  # --overwrite neither
    assert (out / "mine.txt").read_text() == "keep"


def test_an_output_named_like_a_file_is_refused(world):
    out = world["root"] / "sx.csv"
    proc = cli_here(
        "score", world["run"], "--input", str(world["root"] / "data" / "*.parquet"),
        "--output", out, "--dask", "tcp://127.0.0.1:9", check=2,
    )  # fmt: skip
    assert proc.stderr.count("\n") == 1 and "writes a folder of .parquet parts" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "option",
    [["--maps", "m.npy"], ["--feature-errors"], ["--channels"], ["--npz-key", "x"]]
    + [["--label-column", "nosuch"]],  # uncovered probe 58 #6: it was dropped, not refused
)
def test_options_of_a_scoring_here_are_refused_with_dask_not_ignored(world, option):
    out = world["root"] / "never"
    proc = cli_here(
        "score", world["run"], "--input", str(world["root"] / "data" / "*.parquet"),
        "--output", out, "--dask", "tcp://127.0.0.1:9", *option, check=2,
    )  # fmt: skip
    assert proc.stderr.count("\n") == 1 and option[0] in proc.stderr
    assert "drop --dask" in proc.stderr and not out.exists()


def test_a_rule_option_the_runs_rule_does_not_read_is_refused_before_the_cluster(world):
    # uncovered probe 58 #6: --k with the run's fpr rule was sent to the cluster and dropped there
    proc = cli_here(
        "score", world["run"], "--input", str(world["root"] / "data" / "*.parquet"),
        "--output", world["root"] / "never", "--dask", "tcp://127.0.0.1:9", "--k", "2", check=2,
    )  # fmt: skip
    assert proc.stderr.count("\n") == 1
    assert "--k does not apply to the threshold rule 'fpr' of" in proc.stderr  # the CLI's words
    from aekit.dask.files import score_files  # the Python API too (review 58)

    with pytest.raises(UsageError, match=r"^q=95 is not used: threshold='percentile:99' carries"):
        score_files(
            world["run"], str(world["root"] / "data" / "*.parquet"), str(world["root"] / "n"),
            scheduler="tcp://127.0.0.1:9", threshold="percentile:99", q=95,
        )  # fmt: skip
    with pytest.raises(UsageError, match=r"^k=2 does not apply to the threshold rule 'fpr'"):
        score_files(
            world["run"],
            str(world["root"] / "data" / "*.parquet"),
            str(world["root"] / "n"),
            scheduler="tcp://127.0.0.1:9",
            k=2,
        )


def test_parts_are_read_as_aekit_score_reads_them(world):
    """A run trained with --categorical and a fill for missing cells: each part's rows are one-hot
    encoded and filled as the in-process ``aekit score`` of the same file does, to the same scores."""
    from .test_local import prepared_table

    root = world["root"] / "prepared"
    root.mkdir()
    prepared_table(120, 0).to_csv(root / "train.csv", index=False)
    cli_here(
        "train", "anomaly", "--data", root / "train.csv", "--id-column", "uid", "--categorical",
        "plan", "--epochs", "1", "--threads", "1", "--quiet", "--no-figures", "--out", root / "run",
    )  # fmt: skip
    (root / "parts").mkdir()
    rows = prepared_table(60, 1)  # a missing cell in each part
    rows.iloc[:30].to_parquet(root / "parts" / "p1.parquet")
    rows.iloc[30:].to_parquet(root / "parts" / "p2.parquet")
    cli_here(
        "score", root / "run", "--input", str(root / "parts" / "*.parquet"), "--output",
        root / "scores", "--dask", world["cluster"].scheduler_address,
    )  # fmt: skip
    for name in ("p1", "p2"):
        here = root / f"{name}.csv"
        cli_here(
            "score", root / "run", "--input", root / "parts" / f"{name}.parquet", "--output", here
        )
        want, got = pd.read_csv(here), pd.read_parquet(root / "scores" / f"{name}.parquet")
        assert got["uid"].tolist() == want["uid"].tolist()
        np.testing.assert_allclose(got["score"], want["score"], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(got["is_anomaly"], want["is_anomaly"])


def _scheduler_plugins(dask_scheduler) -> list[str]:
    return sorted(dask_scheduler.worker_plugins)


def _loaded() -> list[str]:
    return sorted(models._MODELS)


@pytest.fixture(scope="module")
def few(world):
    """Two small Parquet files, and one that lacks a column the model needs."""
    few, bad = world["root"] / "few", world["root"] / "few-bad"
    few.mkdir()
    bad.mkdir()
    for i in range(2):
        table(200, 20 + i, first_id=200 * i).to_parquet(few / f"p{i}.parquet")
    table(50, 30).drop(columns="f3").to_parquet(bad / "p.parquet")
    return few, bad


def test_cli_scorings_leave_no_plugin_or_model_on_the_cluster(world, few):
    """probe 59 leaks #1: each ``aekit score --dask`` left a worker plugin on the scheduler and its
    model loaded in every worker (a failed one too), one more at every round of a retrain-and-score
    loop; and every worker that joined later loaded them all."""
    client, address = world["client"], world["cluster"].scheduler_address
    plugins, loaded = client.run_on_scheduler(_scheduler_plugins), client.run(_loaded)
    for rule in ("percentile:90", "percentile:95", "fpr:0.1"):  # three calibrations: three models
        cli_here(
            "score", world["run"], "--input", str(few[0] / "*.parquet"), "--output",
            world["root"] / "few-scores", "--overwrite", "--threshold", rule, "--dask", address,
        )  # fmt: skip
    cli_here(
        "score", world["run"], "--input", str(few[1] / "*.parquet"), "--output",
        world["root"] / "few-bad-scores", "--dask", address, check=2,
    )  # fmt: skip
    assert client.run_on_scheduler(_scheduler_plugins) == plugins
    now = client.run(_loaded)  # no model of theirs left loaded in any worker
    assert all(set(now[w]) <= set(loaded[w]) for w in now), (now, loaded)


def test_relative_inputs_are_read_by_the_workers(world, few, monkeypatch):
    """probe 59 leaks #3: a relative --input went to the workers as typed, and each looked for it in
    its own working directory ("data/t.parquet is not a valid .parquet file")."""
    monkeypatch.chdir(world["root"])  # the workers' working directory is another one
    proc = cli_here(
        "score", "run", "--input", "few/*.parquet", "--output", "rel-scores", "--dask",
        world["cluster"].scheduler_address,
    )  # fmt: skip
    assert "wrote 400 scores in 2 parts" in proc.stdout
    got = pd.read_parquet(world["root"] / "rel-scores" / "p1.parquet")
    assert got["user_id"].tolist() == (np.arange(200, 400) * 7).tolist()
