"""What training, inference and reading will allocate, estimated before anything is allocated.

The model is built on PyTorch's ``meta`` device (shapes without storage) and run forward on a
meta batch, so the parameter count and the activations of a batch are exact for the model at
hand and cost nothing. Each ``check_*`` raises one line (:func:`aekit._memory.check_fits`) with the
estimate, the limit and the argument to change.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from .._memory import check_fits, format_bytes
from ..models.activations import ACTIVATIONS
from ..models.dense_ensemble import MemberLinear
from ..models.init import float32_default
from . import distributed

FLOAT = 4  # bytes of a float32
# Training holds per parameter: the weight, its gradient and Adam's two moments.
TRAIN_COPIES = 4
# Autograd keeps about every layer's output for the backward pass, which allocates as much again.
BACKWARD_FACTOR = 2


def _meta_model(build: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    with torch.device("meta"), float32_default():  # the sizes of the float32 model trained
        model = build()
    _stand_ins(model)
    return model


# Leaves whose meta kernels are torch's Python references (nn.Linear's addmm, relu, tanh...): a
# meta forward through them imported torch._dynamo and sympy (~1.4 s and 80 MiB on a first fit or
# load, an environment variable and a temporary folder). Their outputs' shapes follow from the
# input's, so the count runs them as empty tensors of those shapes, the same bytes.
_ELEMENTWISE = frozenset({*ACTIVATIONS.values(), nn.Softplus, nn.Dropout})


def _linear(module: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if x.shape[-1] != module.in_features:
        raise RuntimeError(f"{x.shape[-1]} inputs for {module.in_features} in_features")
    dtype = torch.promote_types(x.dtype, module.weight.dtype)
    return x.new_empty((*x.shape[:-1], module.out_features), dtype=dtype)


def _same_shape(x: torch.Tensor) -> torch.Tensor:
    # new_empty, not torch.empty_like: the latter's meta reference imports sympy (~0.3 s)
    return x.new_empty(x.shape)


def _stand_ins(model: torch.nn.Module) -> None:
    """Give the meta model's linear and elementwise leaves forwards that only make their outputs."""
    for m in model.modules():
        if type(m) in (nn.Linear, MemberLinear):  # the ensemble's baddbmm imports sympy too
            m.forward = functools.partial(_linear, m)
        elif type(m) in _ELEMENTWISE:
            m.forward = _same_shape


def parameter_bytes(model: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def activation_bytes(model: torch.nn.Module, sample_shape: Sequence[int], batch: int) -> int:
    """Bytes of every module's outputs for one forward pass of ``batch`` samples (on the meta device)."""
    total = 0

    def count(_module, _inputs, output) -> None:
        nonlocal total
        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor):
                total += t.numel() * t.element_size()

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(count) for m in leaves]
    try:
        with torch.no_grad():
            model(torch.empty((batch, *sample_shape), device="meta", dtype=torch.float32))
    except Exception:  # a model whose forward needs more than a batch: count its parameters only
        return 0
    finally:
        for h in handles:
            h.remove()
    return total


def check_model_fits(
    build: Callable[[], torch.nn.Module],
    sample_shape: Sequence[int],
    batch_size: int,
    *,
    training: bool = True,
    data_bytes: int = 0,
    device: torch.device | None = None,
) -> None:
    """Refuse a model (with its optimizer state and a batch's activations) that memory cannot hold.

    ``build`` makes the model (it is called on the meta device: no storage); ``data_bytes`` is what
    the data adds on the training device. Under torchrun every process on this machine holds its own.
    """
    try:
        model = _meta_model(build)
    except (RuntimeError, ValueError, TypeError):
        return  # the real build reports what is wrong with the settings
    params = parameter_bytes(model)
    batch = max(1, int(batch_size))
    acts = activation_bytes(model, sample_shape, batch)
    need = (
        params * (TRAIN_COPIES if training else 1)
        + acts * (BACKWARD_FACTOR if training else 1)
        + data_bytes
    )
    local = distributed.local_world_size()
    n_params = sum(p.numel() for p in model.parameters())
    what = (
        f"a model of {n_params:,} parameters ({format_bytes(params)}) with the activations of a batch of "
        f"{batch} samples shaped {tuple(sample_shape)} ({format_bytes(acts)})"
    )
    if local > 1:
        what += f", in each of {local} processes,"
        need *= local
    cuda = device is not None and torch.device(device).type == "cuda"
    check_fits(
        need,
        what,
        "make the layers or channels narrower, the batch or the images smaller"
        + (", or use fewer processes" if local > 1 else ""),
        limit=int(torch.cuda.mem_get_info(device)[0]) if cuda else None,
        where="GPU memory" if cuda else "memory",
    )


def check_output_fits(n: int, sample_shape: Sequence[int], what: str, fix: str) -> None:
    """Refuse an output of ``n`` float32 samples shaped ``sample_shape`` that memory cannot hold."""
    check_fits(int(n) * math.prod(int(d) for d in sample_shape) * FLOAT, what, fix)


def check_images_fit(path: str | os.PathLike, image_size: Sequence[int] | None) -> None:
    """Refuse resizing a folder of images (or one image) to ``image_size`` when the result cannot fit."""
    if not image_size:
        return
    from ..data.images import IMAGE_EXTENSIONS, image_files

    path = os.fspath(path)
    if os.path.isdir(path):
        try:
            n = len(image_files(Path(path)))
        except Exception:  # the reader reports what is wrong with the folder
            return
    elif os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        n = 1
    else:
        return
    h, w = (int(d) for d in image_size)
    # Per image: the resized pixels (up to 3 channels) as bytes, then as float32; all images stacked.
    check_fits(
        n * 3 * h * w * (1 + FLOAT) + 3 * h * w * FLOAT,
        f"reading {n} image{'s' if n != 1 else ''} resized to {h}x{w}",
        "pass a smaller --image-size",
    )
