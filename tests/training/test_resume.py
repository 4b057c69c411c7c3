"""A resume from a checkpoint: on the data it was trained on, or said when it is other data."""

import logging

import torch

from aekit.training.loop import TrainConfig, train


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Linear(3, 6))


def _loss(model, x, t, g):
    return torch.nn.functional.mse_loss(model(x), t)


def test_a_resume_on_other_data_of_the_same_shape_says_so(tmp_path, caplog):
    """probe 60 training 8: resuming in Python from a checkpoint trained on 100 other rows of the
    same width went on without a word, where the Trainer promises an exact continuation. A note
    says the data differ; the same data resumes quietly."""
    a, b = torch.randn(100, 6, generator=torch.Generator().manual_seed(1)), torch.randn(100, 6)
    config = TrainConfig(epochs=2, batch_size=16)
    train(_model(), _loss, a, config=config, checkpoint_dir=tmp_path)
    more = TrainConfig(epochs=3, batch_size=16)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        train(_model(), _loss, a, config=more, checkpoint_dir=tmp_path, resume=True)
    assert "other data" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        train(_model(), _loss, b, config=TrainConfig(epochs=4, batch_size=16),
              checkpoint_dir=tmp_path, resume=True)  # fmt: skip
    assert f"the checkpoint in {tmp_path} was trained on other data than this" in caplog.text
