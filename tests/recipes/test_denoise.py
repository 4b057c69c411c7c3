"""The denoising recipe's reading of the user's images."""

from __future__ import annotations

import numpy as np
from PIL import Image

from aekit.recipes import DataSpec, get_recipe


def test_a_folder_of_several_sizes_is_cut_alike_in_memory_and_streamed(tmp_path):
    """probe 67 #6: the folder trained on its central crops in memory, and was refused streamed
    (--stream, or past --memory-cap): the run depended on the memory."""
    rng = np.random.default_rng(0)
    (tmp_path / "imgs").mkdir()
    for i in range(10):
        size = (12, 10) if i % 2 else (16, 14)
        Image.fromarray(rng.integers(0, 256, size, dtype=np.uint8)).save(tmp_path / f"imgs/{i}.png")
    recipe = get_recipe("denoise", data=tmp_path / "imgs")
    held = {}
    for stream in (False, True):
        train, val = recipe.load_data(DataSpec(data=str(tmp_path / "imgs"), stream=stream), 0)
        # in memory an array, streamed a view of the spilled rows
        held[stream] = [
            np.asarray(part.x if not stream else part.x.rows(0, len(part))) for part in (train, val)
        ]
        assert held[stream][0].shape[1:] == (1, 12, 10)
    for memory, streamed in zip(held[False], held[True]):
        np.testing.assert_array_equal(memory, streamed)
