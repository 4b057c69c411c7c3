"""Outputs of one command given to another: aekit's own columns are taken by name, said, or
refused before a file no reader takes; evaluate's figures are JSON on stdout as in --output."""

from __future__ import annotations

import json

import numpy as np

from aekit.cli.main import main

TINY = ["--epochs", "1", "--threads", "1", "--device", "cpu", "--quiet", "--no-figures"]
RNG = np.random.default_rng(0)


def _table(path, n=80, extra=""):
    x = RNG.normal(size=(n, 4)).round(4)
    rows = [f"r{i},{','.join(map(str, row))}{extra}" for i, row in enumerate(x)]
    path.write_text("id,a,b,c,d" + ("," + "score,is_anomaly,p_value" if extra else "") + "\n")
    with path.open("a") as f:
        f.write("\n".join(rows) + "\n")
    return x


def _train(tmp_path, family, data, *more):
    run = tmp_path / "run"
    assert main(["train", family, "--data", str(data), "--out", str(run), *more, *TINY]) == 0
    return run


def test_evaluate_takes_the_models_columns_by_name_beside_others(tmp_path, capsys):
    """A table joined with score's columns: evaluate refused it ('has 7 feature columns') where
    score and calibrate took the model's columns by name."""
    _table(tmp_path / "t.csv")
    run = _train(tmp_path, "anomaly", tmp_path / "t.csv", "--id-column", "id")
    _table(tmp_path / "joined.csv", extra=",0.5,0,0.25")
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data", str(tmp_path / "joined.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["n_samples"] == 80


def test_evaluate_writes_a_figure_that_is_not_finite_as_null(tmp_path, capsys):
    """stdout printed "mean_score": Infinity (not JSON) while --output refused the same figures."""
    np.save(tmp_path / "x.npy", RNG.normal(size=(80, 3)).astype(np.float32))
    run = _train(tmp_path, "anomaly", tmp_path / "x.npy")
    huge = RNG.normal(size=(10, 3)).astype(np.float32)
    huge[0] = 3e38  # scores inf
    np.save(tmp_path / "huge.npy", huge)
    capsys.readouterr()

    def strict(text):
        return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))

    assert main(["evaluate", str(run), "--data", str(tmp_path / "huge.npy")]) == 0
    printed = capsys.readouterr()
    assert strict(printed.out)["mean_score"] is None
    out = tmp_path / "ev.json"
    assert (
        main(["evaluate", str(run), "--data", str(tmp_path / "huge.npy"), "--output", str(out)])
        == 0
    )
    assert strict(out.read_text()) == strict(printed.out)


def test_a_run_without_column_names_says_it_takes_a_tables_columns_by_position(tmp_path, caplog):
    """score's own output scored again by a run trained on an .npy: its columns were features."""
    np.save(tmp_path / "x.npy", RNG.normal(size=(80, 4)).astype(np.float32))
    run = _train(tmp_path, "anomaly", tmp_path / "x.npy")
    _table(tmp_path / "t.csv", n=10)
    caplog.clear()
    out = tmp_path / "s.csv"
    argv = ["score", str(run), "--input", str(tmp_path / "t.csv"), "--id-column", "id"]
    assert main([*argv, "--output", str(out)]) == 0
    assert "took its number columns (a, b, c, d) by position" in caplog.text
    caplog.clear()
    again = ["score", str(run), "--input", str(out), "--id-column", "id"]
    assert main([*again, "--output", str(tmp_path / "s2.csv")]) == 2  # 3 columns, not 4


def test_an_id_named_as_an_output_column_is_refused_before_writing(tmp_path, capsys):
    """--id-column score gave the header score,score,is_anomaly,p_value, which aekit refuses."""
    _table(tmp_path / "t.csv")
    run = _train(tmp_path, "anomaly", tmp_path / "t.csv", "--id-column", "id")
    text = (tmp_path / "t.csv").read_text()
    (tmp_path / "named.csv").write_text(text.replace("id,", "score,", 1))
    out = tmp_path / "s.csv"
    argv = ["score", str(run), "--input", str(tmp_path / "named.csv"), "--id-column", "score"]
    capsys.readouterr()
    assert main([*argv, "--output", str(out)]) == 2
    assert "the id column 'score'" in capsys.readouterr().err and not out.exists()


def test_a_figure_not_finite_is_null_in_lists_tuples_and_numpys_floats():
    """JSON has no Infinity: a float32 or a tuple's figure too (the review's case, none today)."""
    import json

    from aekit.cli.cmd_run import _finite

    got = _finite({"a": np.float32("inf"), "b": (1.0, float("nan")), "c": [2, np.float64(3.5)]})
    assert json.dumps(got, allow_nan=False) == '{"a": null, "b": [1.0, null], "c": [2, 3.5]}'
