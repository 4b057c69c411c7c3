"""aekit.models.imagescore: an image's score from its map."""

import pytest
import torch

from aekit.models.imagescore import TOP_MOST, image_score


def test_a_patch_outscores_a_lone_pixel_that_the_maximum_would_rank_first():
    maps = torch.zeros(2, 20, 20)  # 400 pixels: the top 5% is 20 of them
    maps[0, 5, 5] = 10.0  # one noisy pixel
    maps[1, 2:7, 2:6] = 4.0  # a defect of 20 pixels
    assert image_score(maps, "max").tolist() == [10.0, 4.0]
    assert image_score(maps).tolist() == pytest.approx([0.5, 4.0])


def test_the_top_is_at_least_one_pixel_and_at_most_the_cap():
    assert image_score(torch.full((1, 3, 3), 2.0)).item() == 2.0  # 5% of 9: one pixel
    big = torch.zeros(1, 100, 100)
    big.view(-1)[: 2 * TOP_MOST] = torch.arange(2 * TOP_MOST, 0, -1).float()  # 2 x the cap lit
    top = torch.arange(2 * TOP_MOST, TOP_MOST, -1).float().mean()
    assert image_score(big).item() == pytest.approx(top.item())  # the cap's pixels, not 5% (500)
    with pytest.raises(ValueError, match="unknown image score"):
        image_score(big, "mean")
