"""A file of another width than the model's is one line naming it (scikit-learn's line names none)."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.cli.main import main

TINY = ["--epochs", "1", "--threads", "1", "--device", "cpu", "--quiet", "--no-figures"]


@pytest.mark.parametrize("family, command", [("anomaly", "score"), ("basic", "encode")])
def test_rows_of_another_width_name_the_file(tmp_path, capsys, family, command):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((60, 5), dtype=np.float32))
    np.save(tmp_path / "narrow.npy", rng.random((4, 3), dtype=np.float32))
    (tmp_path / "narrow.csv").write_text("1.5,2.5,3.5\n4.5,5.5,6.5\n")  # no header: by position
    run = tmp_path / "run"
    assert main(["train", family, "--data", str(tmp_path / "x.npy"), "--out", str(run), *TINY]) == 0
    capsys.readouterr()
    for name in ("narrow.npy", "narrow.csv"):
        out = tmp_path / ("out.csv" if command == "score" else "z.npy")
        assert main([command, str(run), "--input", str(tmp_path / name), "--output", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"{name} has 3 feature columns; the model was trained on 5" in err, err
        assert not out.exists()
