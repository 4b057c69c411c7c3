"""The user's own networks as aekit builds and runs them (aekit.models.custom): copies, checks, failures."""

from __future__ import annotations

import pytest

from aekit.errors import UsageError
from aekit.models.custom import CustomAutoencoder, build_pair, network

from ..nets import TiedDecoder, TiedEncoder


def _one_line(err, *needles):
    text = str(err.value)
    assert "\n" not in text, text
    for needle in needles:
        assert needle in text, (needle, text)


def test_a_network_module_calling_sys_exit_at_import_is_one_line(tmp_path):
    for code, shown in (("3", "sys.exit(3)"), ("'bye'", "sys.exit('bye')")):
        path = tmp_path / f"prog{len(code)}.py"
        path.write_text(f"import sys\nsys.exit({code})\n")
        with pytest.raises(UsageError) as err:
            network(f"{path}:Encoder")
        _one_line(err, f"importing {path} called {shown}", 'if __name__ == "__main__"')


def test_modules_sharing_a_layer_are_copied_together_so_tied_weights_stay_tied():
    enc = TiedEncoder(12, 3)
    dec = TiedDecoder(enc)
    enc2, dec2, code = build_pair(enc, dec, (12,))
    assert code == (3,) and enc2 is not enc
    assert dec2.encoder.linear.weight is enc2.linear.weight  # one weight, as the user's pair has
    model = CustomAutoencoder(enc2, dec2)
    assert sum(p.numel() for p in model.parameters()) == 12 * 3 + 3 + 12
