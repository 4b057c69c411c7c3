"""Issue 34: every family trains, saves, reloads (in a fresh process, by import path alone and by passing
modules), exports and fits scikit-learn's contract with the user's own encoder and decoder.

The networks are tests/nets.py's, named ``tests.nets:...`` as a user names ``mypkg.nets:...``.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit.errors import RunFailure, UsageError
from aekit.estimators.base import expected_failed_checks

from ..conftest import REPO
from ..nets import Configured, GaussianEncoder, MLPDecoder, MLPEncoder, TiedDecoder, TiedEncoder

LATENT = 3
TINY = dict(epochs=2, batch_size=16, device="cpu", threads=1)


def enc(latent_dim=LATENT, hidden=8):
    return aekit.network("tests.nets:MLPEncoder", latent_dim=latent_dim, hidden=hidden)


def dec(hidden=8):
    return aekit.network("tests.nets:MLPDecoder", hidden=hidden)


def _table(n=96, d=12, seed=0):
    return np.random.default_rng(seed).random((n, d), dtype=np.float32)


def _images(n=48, seed=0):
    return (np.random.default_rng(seed).random((n, 1, 6, 6)) > 0.5).astype(np.float32)


def _series(n=400):
    return np.sin(np.arange(n, dtype=np.float32) / 3.0)


# family -> (estimator, data, the method whose outputs must survive a reload, the modules' input shape)
FAMILIES = {
    "Autoencoder": (lambda: aekit.Autoencoder(**TINY), _table, "transform", (12,)),
    "Denoiser": (lambda: aekit.Denoiser(**TINY), lambda: _images() * 0.8, "transform", (1, 6, 6)),
    "AnomalyDetector": (
        lambda: aekit.AnomalyDetector(density=0.5, n_neighbors=5, **TINY),
        _table,
        "decision_function",
        (12,),
    ),
    "SeriesDetector": (
        lambda: aekit.SeriesDetector(window=16, method="reconstruction", **TINY),
        _series,
        "score_samples",
        (1, 16),
    ),
    "VAE": (lambda: aekit.VAE(latent_dim=LATENT, **TINY), _images, "elbo", (1, 6, 6)),
}


def _networks(family: str):
    if family == "VAE":
        return aekit.network("tests.nets:GaussianEncoder", hidden=8), dec()
    return enc(), dec()


def _modules(family: str):
    """The same networks as modules, for aekit.load(path, encoder=..., decoder=...)."""
    shape = FAMILIES[family][3]
    first = GaussianEncoder(shape, LATENT, 8) if family == "VAE" else MLPEncoder(shape, LATENT, 8)
    return first, MLPDecoder(shape, LATENT, 8)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each family fitted with its own small network and saved; its outputs kept to compare with."""
    root = tmp_path_factory.mktemp("custom")
    outputs = {}
    for family, (make, data, method, _) in FAMILIES.items():
        encoder, decoder = _networks(family)
        est = make().set_params(encoder=encoder, decoder=decoder).fit(data())
        est.save(root / family)
        outputs[family] = getattr(est, method)(data())
    return root, outputs


def test_the_latent_size_is_the_encoders_output():
    ae = aekit.Autoencoder(encoder=enc(), decoder=dec(), **TINY).fit(_table())
    assert ae.latent_shape_ == (LATENT,) and ae.transform(_table()[:5]).shape == (5, LATENT)
    assert ae.inverse_transform(np.zeros((2, LATENT), np.float32)).shape == (2, 12)
    # a spec's constructor that takes latent_dim and is not given one receives the estimator's
    ae = aekit.Autoencoder(
        latent_dim=5, encoder=aekit.network("tests.nets:MLPEncoder"), decoder=dec()
    )
    assert ae.set_params(**TINY).fit(_table()).latent_shape_ == (5,)


def test_the_users_module_is_trained_as_a_copy_and_left_as_given():
    module = MLPEncoder((12,), LATENT)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    ae = aekit.Autoencoder(encoder=module, decoder=MLPDecoder((12,), LATENT), **TINY).fit(_table())
    assert ae.get_params()["encoder"] is module
    assert all((module.state_dict()[k] == v).all() for k, v in before.items())
    assert ae.model_.encoder is not module


def test_a_tied_encoder_and_decoder_train_saved_and_reloaded_as_one_weight(tmp_path):
    X = _table()
    enc = TiedEncoder(12, LATENT)
    ae = aekit.Autoencoder(encoder=enc, decoder=TiedDecoder(enc), **TINY).fit(X)
    model = ae.model_
    assert model.decoder.encoder.linear.weight is model.encoder.linear.weight
    ae.save(tmp_path / "tied")
    enc2 = TiedEncoder(12, LATENT)
    back = aekit.load(tmp_path / "tied", encoder=enc2, decoder=TiedDecoder(enc2))
    assert back.model_.decoder.encoder.linear.weight is back.model_.encoder.linear.weight
    assert np.array_equal(back.reconstruct(X), ae.reconstruct(X))


def test_a_layer_registered_under_two_names_saves_checkpoints_and_reloads(tmp_path):
    X = _table()
    aliased = aekit.network("tests.nets:Aliased", latent_dim=LATENT)
    ae = aekit.Autoencoder(encoder=aliased, decoder=dec(), **TINY)
    ae.fit(X, checkpoint_dir=tmp_path / "ckpt")
    ae.save(tmp_path / "aliased")
    back = aekit.load(tmp_path / "aliased")
    assert back.model_.encoder.alias is back.model_.encoder.net
    assert np.array_equal(back.transform(X), ae.transform(X))


def test_randomness_inside_the_users_network_is_drawn_from_the_seed():
    dropping = aekit.network("tests.nets:Dropping", latent_dim=LATENT)
    X = _table()
    state = torch.get_rng_state()
    first = aekit.Autoencoder(encoder=dropping, decoder=dec(), seed=3, **TINY).fit(X)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's generator is left as it was
    torch.manual_seed(12345)  # whatever the caller's generator holds
    second = aekit.Autoencoder(encoder=dropping, decoder=dec(), seed=3, **TINY).fit(X)
    assert np.array_equal(first.transform(X), second.transform(X))


def test_a_network_changed_by_set_params_after_fit_is_not_what_the_save_records(tmp_path):
    X = _table()
    ae = aekit.Autoencoder(encoder=enc(hidden=8), decoder=dec(), **TINY).fit(X)
    ae.set_params(encoder=enc(hidden=16))  # takes effect at the next fit
    ae.save(tmp_path / "m")
    params = json.loads((tmp_path / "m" / "config.json").read_text())["params"]
    assert params["encoder"] == dict(enc(hidden=8))
    assert np.array_equal(aekit.load(tmp_path / "m").transform(X), ae.transform(X))


def _fresh_process(script: str) -> subprocess.CompletedProcess:
    """``script`` run by a new interpreter in the repository (one thread: the numbers as here)."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_each_family_reloads_bit_identically_in_a_fresh_process_both_ways(saved):
    root, outputs = saved
    script = f"""
import json, sys, numpy as np, aekit
from tests.estimators.test_custom_networks import FAMILIES, _modules
root = {str(root)!r}
for family, (make, data, method, _) in FAMILIES.items():
    by_path = aekit.load(f"{{root}}/{{family}}", device="cpu")
    encoder, decoder = _modules(family)
    by_modules = aekit.load(f"{{root}}/{{family}}", device="cpu", encoder=encoder, decoder=decoder)
    np.save(f"{{root}}/{{family}}-path.npy", getattr(by_path, method)(data()))
    np.save(f"{{root}}/{{family}}-modules.npy", getattr(by_modules, method)(data()))
"""
    proc = _fresh_process(script)
    assert proc.returncode == 0, proc.stderr
    for family, want in outputs.items():
        for way in ("path", "modules"):
            got = np.load(root / f"{family}-{way}.npy")
            assert got.dtype == want.dtype and np.array_equal(got, want), (family, way)


def test_config_json_records_the_networks_as_import_paths(saved):
    root, _ = saved
    params = json.loads((root / "VAE" / "config.json").read_text())["params"]
    assert params["encoder"] == {"network": "tests.nets:GaussianEncoder", "args": {"hidden": 8}}
    assert params["iw_samples"] == 1


def test_a_module_with_get_config_reloads_by_path_and_one_without_needs_the_modules(tmp_path):
    X = _table()
    ae = aekit.Autoencoder(
        encoder=Configured(12, LATENT), decoder=Configured(LATENT, 12), **TINY
    ).fit(X)
    ae.save(tmp_path / "configured")
    assert np.array_equal(aekit.load(tmp_path / "configured").reconstruct(X), ae.reconstruct(X))

    plain = aekit.Autoencoder(
        encoder=MLPEncoder((12,), LATENT), decoder=MLPDecoder((12,), LATENT), **TINY
    )
    plain.fit(X).save(tmp_path / "plain")
    recorded = json.loads((tmp_path / "plain" / "config.json").read_text())["params"]["encoder"]
    assert recorded == {"network": "tests.nets:MLPEncoder", "args": None}
    with pytest.raises(UsageError) as err:
        aekit.load(tmp_path / "plain")
    _one_line(err, "without constructor arguments", "aekit.load(path, encoder=")
    back = aekit.load(
        tmp_path / "plain", encoder=MLPEncoder((12,), LATENT), decoder=MLPDecoder((12,), LATENT)
    )
    assert np.array_equal(back.transform(X), plain.transform(X))


def _one_line(err, *needles):
    text = str(err.value)
    assert "\n" not in text, text
    for needle in needles:
        assert needle in text, (needle, text)


# ---- what goes wrong: one line each -----------------------------------------------------------------


def test_a_module_that_cannot_be_imported_is_one_line(saved, tmp_path):
    with pytest.raises(UsageError) as err:
        aekit.network("tests.no_such_nets:Encoder")
    _one_line(err, "cannot import 'tests.no_such_nets'", "PYTHONPATH")
    with pytest.raises(UsageError) as err:
        aekit.network("tests.nets:NoSuchEncoder")
    _one_line(err, "tests.nets has no 'NoSuchEncoder'")
    with pytest.raises(UsageError) as err:
        aekit.network("tests.nets:MLPEncoder", widht=3)
    _one_line(err, "does not take these arguments", "widht")
    # a saved run whose module has gone
    root, _ = saved
    run = tmp_path / "gone"
    run.mkdir()
    for name in ("config.json", "model.safetensors"):
        (run / name).write_bytes((root / "Autoencoder" / name).read_bytes())
    config = json.loads((run / "config.json").read_text())
    config["params"]["encoder"]["network"] = "tests.gone_nets:MLPEncoder"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(UsageError) as err:
        aekit.load(run)
    _one_line(err, "encoder: cannot import 'tests.gone_nets'")


def test_a_decoder_that_does_not_give_back_the_inputs_shape_is_one_line():
    images = _images(16, 1).reshape(16, 1, 6, 6)
    short = aekit.network("tests.nets:ShortDecoder", hidden=8)
    for est in (aekit.Autoencoder(**TINY), aekit.Denoiser(**TINY)):
        with pytest.raises(UsageError) as err:
            est.set_params(encoder=enc(), decoder=short).fit(images)
        _one_line(err, "the decoder returned (B, 1, 5, 5) for inputs of (B, 1, 6, 6)")
    with pytest.raises(UsageError) as err:  # a VAE's encoder must give (mean, logvar)
        aekit.VAE(encoder=enc(), decoder=dec(), **TINY).fit(_images())
    _one_line(err, "expected (mean, logvar)")
    with pytest.raises(UsageError) as err:
        aekit.Autoencoder(encoder=enc(), **TINY).fit(_table())
    _one_line(err, "encoder= needs decoder= too")


def test_weights_that_do_not_fit_the_networks_passed_are_one_line_naming_the_tensor(saved):
    root, _ = saved
    with pytest.raises(RunFailure) as err:  # hidden 16, not 8: same input and code, other weights
        aekit.load(
            root / "Autoencoder",
            encoder=MLPEncoder((12,), LATENT, 16),
            decoder=MLPDecoder((12,), LATENT),
        )
    _one_line(
        err,
        "weights do not fit the network",
        "'encoder.net.1.weight' is (8, 12) in the file but (16, 12)",
    )


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda: aekit.Autoencoder(hidden=(16, 8), init="he"), "hidden=(16, 8), init='he' set the built-in"),
        (lambda: aekit.Denoiser(channels=(8, 4)), "channels=(8, 4) sets the built-in network"),
        (lambda: aekit.AnomalyDetector(architecture="conv1d"), "architecture='conv1d' sets the built-in"),
        (lambda: aekit.Autoencoder(latent_dim=64), "latent_dim=64 is not passed to your encoder"),
    ],
)  # fmt: skip
def test_the_built_in_networks_options_are_refused_with_a_custom_network(make, needle):
    with pytest.raises(UsageError) as err:  # enc() sets its own latent_dim
        make().set_params(encoder=enc(), decoder=dec()).check_params()
    _one_line(err, needle, "leave")
    modules = {"encoder": MLPEncoder((12,), LATENT), "decoder": MLPDecoder((12,), LATENT)}
    with pytest.raises(UsageError, match="latent_dim=5 is not passed"):  # a module takes nothing
        aekit.Autoencoder(latent_dim=5, **modules).check_params()
    takes = aekit.network("tests.nets:MLPEncoder")  # its constructor receives latent_dim
    aekit.Autoencoder(latent_dim=5, encoder=takes, decoder=dec()).check_params()


def test_members_other_than_one_are_refused_with_a_custom_network():
    det = aekit.AnomalyDetector(members=3, encoder=enc(), decoder=dec())
    with pytest.raises(UsageError, match="members=1"):
        det.check_params()
    assert aekit.AnomalyDetector(encoder=enc(), decoder=dec())._members() == 1


# ---- ONNX --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "family, part",
    [
        ("Autoencoder", None),
        ("Autoencoder", "decoder"),
        ("Denoiser", None),
        ("AnomalyDetector", None),
        ("VAE", "encoder"),
        ("VAE", "decoder"),
    ],
)
def test_onnx_export_of_a_custom_network_matches_pytorch(saved, tmp_path, family, part):
    pytest.importorskip("onnxruntime")
    from aekit.export import export_onnx, verify_onnx

    root, _ = saved
    path = export_onnx(root / family, tmp_path / "m.onnx", part=part)
    assert verify_onnx(path, root / family, n=7) < 1e-5


def test_a_network_torch_export_cannot_trace_is_one_line(tmp_path):
    pytest.importorskip("onnxscript")
    from aekit.export import export_onnx

    branchy = aekit.network("tests.nets:Branchy", latent_dim=LATENT, hidden=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = aekit.Autoencoder(encoder=branchy, decoder=dec(), **TINY).fit(_table())
    with pytest.raises(RunFailure) as err:
        export_onnx(ae, tmp_path / "b.onnx")
    _one_line(
        err, "ONNX export of the Autoencoder's autoencoder failed", "data-dependent", "traceable"
    )


# ---- scikit-learn's contract ---------------------------------------------------------------------------

SK = dict(epochs=1, batch_size=64, device="cpu")
CHECKED = [
    aekit.Autoencoder(
        encoder=enc(latent_dim=2, hidden=4),
        decoder=dec(hidden=4),
        **SK,
    ),
    aekit.AnomalyDetector(
        encoder=enc(latent_dim=2, hidden=4),
        decoder=dec(hidden=4),
        **SK,
    ),
]


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_scikit_learn_check_estimator_with_a_custom_network(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_no_check_is_declared_to_fail_for_the_custom_networks():
    assert [expected_failed_checks(est) for est in CHECKED] == [{}, {}]


# ---- exact resume --------------------------------------------------------------------------------------


class _Stop:
    """Stops training right after an epoch's checkpoint, as Ctrl-C or SIGTERM does in the CLI."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, record):
        if record["epoch"] == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_stopped_fit_resumes_to_the_uninterrupted_result(tmp_path, family):
    make, data, method, _ = FAMILIES[family]

    def fresh():
        encoder, decoder = _networks(family)
        if family == "Autoencoder":  # dropout of its own: drawn again alike on resume
            encoder = aekit.network("tests.nets:Dropping", latent_dim=LATENT)
        return make().set_params(epochs=4, encoder=encoder, decoder=decoder)

    full = getattr(fresh().fit(data()), method)(data())
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(data(), checkpoint_dir=tmp_path, callbacks=[_Stop(2)])
    resumed = fresh().fit(data(), checkpoint_dir=tmp_path, resume=True)
    assert len(resumed.history_) == 4
    assert np.array_equal(getattr(resumed, method)(data()), full)


def test_a_network_class_where_an_instance_belongs_is_one_line(saved, tmp_path):
    with pytest.raises(UsageError) as err:
        aekit.Autoencoder(encoder=MLPEncoder, decoder=dec(), **TINY).fit(_table())
    _one_line(err, "encoder: got the class MLPEncoder", "aekit.network('tests.nets:MLPEncoder'")
    root, _ = saved
    with pytest.raises(UsageError) as err:
        aekit.load(root / "Autoencoder", encoder=MLPEncoder, decoder=MLPDecoder)
    _one_line(err, "got the class MLPEncoder")
    # saved beside its own network file: refused before anything is written
    (tmp_path / "m").mkdir()
    shutil.copy(REPO / "tests" / "nets.py", tmp_path / "m" / "nets.py")
    est = aekit.Autoencoder(encoder=aekit.network(f"{tmp_path / 'm' / 'nets.py'}:MLPEncoder",
                                                  latent_dim=LATENT, hidden=8),
                            decoder=aekit.network(f"{tmp_path / 'm' / 'nets.py'}:MLPDecoder", hidden=8),
                            **TINY).fit(_table())  # fmt: skip
    with pytest.raises(UsageError, match="lies inside the run folder"):
        est.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["nets.py"]


def test_modules_given_for_a_run_of_the_built_in_network_are_one_line(tmp_path):
    aekit.Autoencoder(**TINY).fit(_table()).save(tmp_path / "builtin")
    with pytest.raises(UsageError) as err:
        aekit.load(tmp_path / "builtin", encoder=MLPEncoder((12,), LATENT), decoder=dec())
    _one_line(err, "trained with aekit's built-in network", "without encoder=")


def test_each_family_with_networks_from_a_file_unpickles_in_a_fresh_process(tmp_path):
    """Probe 66 sklearn 3: a fitted estimator whose networks came from ``path/nets.py:NAME``
    pickled, but another process answered "No module named '_aekit_network_nets_...'" (the name
    aekit imported the file under). The file's classes pickle by its path and SHA-256; review 66:
    a copy in the same process needs no file (edited, it was refused), and networks passed as
    modules of such a class copy as they did."""
    import pickle

    nets = tmp_path / "mynets.py"
    nets.write_text((REPO / "tests" / "nets.py").read_text())
    outputs = {}
    for family, (make, data, method, _) in FAMILIES.items():
        first = "GaussianEncoder" if family == "VAE" else "MLPEncoder"
        encoder = aekit.network(f"{nets}:{first}", hidden=8)
        decoder = aekit.network(f"{nets}:MLPDecoder", hidden=8)
        est = make().set_params(encoder=encoder, decoder=decoder).fit(data())
        (tmp_path / f"{family}.pkl").write_bytes(pickle.dumps(est))
        outputs[family] = getattr(est, method)(data())
        assert np.array_equal(
            getattr(pickle.loads(pickle.dumps(est)), method)(data()), outputs[family]
        )
    script = f"""
import pickle, numpy as np
from tests.estimators.test_custom_networks import FAMILIES
for family, (make, data, method, _) in FAMILIES.items():
    est = pickle.loads(open(f"{tmp_path}/{{family}}.pkl", "rb").read())
    np.save(f"{tmp_path}/{{family}}.npy", getattr(est, method)(data()))
"""
    proc = _fresh_process(script)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for family, want in outputs.items():
        assert np.array_equal(np.load(tmp_path / f"{family}.npy"), want), family
    # in this process the module aekit imported serves, whatever the file has become since; and
    # networks given as modules of the file's classes copy as they always did
    nets.write_text(nets.read_text() + "\n# edited after the fit\n")
    ae = aekit.Autoencoder(**TINY).set_params(
        encoder=aekit.network(f"{nets}:MLPEncoder", hidden=8),
        decoder=aekit.network(f"{nets}:MLPDecoder", hidden=8),
    )
    ae.fit(_table())
    nets.unlink()
    again = aekit.Autoencoder(encoder=ae.encoder_, decoder=ae.decoder_, **TINY).fit(_table())
    for est in (ae, again):
        for copied in (copy.deepcopy(est), pickle.loads(pickle.dumps(est))):
            assert np.array_equal(copied.transform(_table()), est.transform(_table()))


def test_a_copy_of_a_network_file_in_another_folder_pickles_by_its_own_path(tmp_path):
    """Review 66 #4: two identical ``nets.py`` in two folders were one module, named by the first
    file imported: an estimator of the second pickled by the first's path, and another process
    could not unpickle it once the first folder was gone."""
    import pickle
    import shutil

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "nets.py").write_text((REPO / "tests" / "nets.py").read_text())

    def make(folder):
        nets = tmp_path / folder / "nets.py"
        return aekit.Autoencoder(
            encoder=aekit.network(f"{nets}:MLPEncoder", hidden=8),
            decoder=aekit.network(f"{nets}:MLPDecoder", hidden=8),
            **TINY,
        )

    make("a").fit(_table())  # the first copy imported in this process
    est = make("b").fit(_table())
    (tmp_path / "b.pkl").write_bytes(pickle.dumps(est))
    np.save(tmp_path / "want.npy", est.transform(_table()))
    shutil.rmtree(tmp_path / "a")
    script = f"""
import pickle, numpy as np
from tests.estimators.test_custom_networks import _table
est = pickle.loads(open("{tmp_path}/b.pkl", "rb").read())
assert np.array_equal(est.transform(_table()), np.load("{tmp_path}/want.npy"))
"""
    proc = _fresh_process(script)
    assert proc.returncode == 0, proc.stderr[-2000:]


NESTED = """
import torch
from torch import nn

class Outer:
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(2))

class NewArgs(nn.Module):
    def __new__(cls, width=3):
        return super().__new__(cls)
    def __init__(self, width=3):
        super().__init__()
        self.w = nn.Parameter(torch.ones(width))
    def __getnewargs__(self):
        return (len(self.w),)

class Own(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
    def __reduce_ex__(self, protocol):
        return (Own, ())

NewArgs.sibling = Outer  # classes naming each other: once each (a RecursionError at import)
Outer.Block.back = NewArgs
"""


def test_a_network_files_nested_classes_and_own_pickling_are_kept_and_subclasses_elsewhere_copy(
    tmp_path,
):
    """Review 66 (2): a network file's nested classes and classes of ``__getnewargs__`` pickled by
    aekit's private module name (another process: "No module named '_aekit_network_...'"); a
    class's own ``__reduce_ex__`` was replaced; a subclass in the user's script raised KeyError on
    deepcopy, pickle and fit."""
    import pickle

    from aekit.models.custom import import_network

    (tmp_path / "blocks.py").write_text(NESTED)
    load = {
        name: import_network(aekit.network(f"{tmp_path / 'blocks.py'}:{name}"), "encoder")
        for name in ("Outer.Block", "NewArgs", "Own")
    }
    assert load["Own"]().__reduce_ex__(4) == (load["Own"], ())  # the class's own, kept
    (tmp_path / "blocks.pkl").write_bytes(
        pickle.dumps([load["Outer.Block"](), load["NewArgs"](5), load["Own"]()])
    )
    script = f"""
import pickle
block, wide, own = pickle.loads(open({str(tmp_path / "blocks.pkl")!r}, "rb").read())
assert type(block).__qualname__ == "Outer.Block" and len(wide.w) == 5, (block, wide)
print(type(own).__module__)
"""
    proc = _fresh_process(script)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wider = type(
        "Wider", (import_network(aekit.network(f"{nets_file(tmp_path)}:MLPEncoder"), "e"),), {}
    )
    enc = wider((12,), LATENT, 8)
    assert np.array_equal(
        copy.deepcopy(enc)(torch.ones(2, 12)).detach(), enc(torch.ones(2, 12)).detach()
    )
    ae = aekit.Autoencoder(encoder=enc, decoder=MLPDecoder((12,), LATENT, 8), **TINY).fit(_table())
    assert np.array_equal(copy.deepcopy(ae).transform(_table()), ae.transform(_table()))


def nets_file(folder) -> str:
    """tests/nets.py copied into ``folder``, as a user's network file."""
    (folder / "nets_copy.py").write_text((REPO / "tests" / "nets.py").read_text())
    return str(folder / "nets_copy.py")
