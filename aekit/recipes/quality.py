"""Say when a result is bad: checks of a finished run, each a one-line warning with a likely fix.

A run can finish without error and still be useless: a validation loss that never improved, a
reconstruction no better than predicting the mean, a denoiser whose output is worse than its noisy
input, a VAE whose reconstructions are alike whatever the input (judged by what the user sees, not
by the KL alone), a model that learned its training rows by heart (overfitting), a code as wide as
its input (a copy), a series detector whose alarms cover most of the recording. Recipes call
these from :meth:`aekit.recipes.base.Recipe.quality_warnings`; ``train_run`` records the warnings in
``metrics.json`` (``"warnings"``) and ``aekit train`` prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import RowStore

# The checks of the history and the code's width alone (identity_code, never_improved,
# overfitting): said here with the options typed, and by the estimators' fit with their parameters
# (aekit.estimators.advice).
from ..training.advice import as_option, own_args
from ..training.advice import identity_code as identity_code
from ..training.advice import never_improved as never_improved
from ..training.advice import overfitting as overfitting
from ..training.loop import FAR_ABOVE_ADAM, lower_lr

# nats per image: a posterior this close to the prior carries almost nothing of x
KL_COLLAPSED = 0.5
SPREAD_COLLAPSED = 0.25  # samples' per-pixel spread over the data's: below this they all look alike
# reconstructions' per-pixel spread across inputs over the data's: below this every input comes back alike
RECONSTRUCTIONS_ALIKE = 0.25
ALARMS_MOST = 0.5  # share of a series' steps flagged: more is no longer an alarm
# where the user's own network (--encoder/--decoder) is sized: the built-in network's options do not apply
OWN_ARGS = own_args(as_option)


def own_network(est: Any) -> bool:
    """Whether ``est`` trains the user's own encoder and decoder: the built-in network's options
    (``--latent-dim``, ``--hidden``, ``--channels``) are then no fix to advise."""
    return getattr(est, "encoder", None) is not None


def lr_too_high(history: Sequence[dict], lr: Any) -> str | None:
    """A lower learning rate, as the fix of a useless result, when ``lr`` is far above any Adam
    setting or the training loss rose over the run; else None (a sigmoid output bounds the loss, so
    a rate 50,000 times the default need not blow it up: the run ends useless, not diverged).

    Examples
    --------
    >>> print(lr_too_high([{"train_loss": 0.2}, {"train_loss": 0.1}], 50.0))
    lower the learning rate (--lr 50 is far above Adam's usual 1e-3: try --lr 0.001)
    >>> lr_too_high([{"train_loss": 0.2}, {"train_loss": 0.1}], 1e-3) is None
    True
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        return None
    losses = [float(r["train_loss"]) for r in history if r.get("train_loss") is not None]
    rose = len(losses) >= 2 and losses[-1] > losses[0]
    if lr > FAR_ABOVE_ADAM:
        why = f"--lr {lr:g} is far above Adam's usual 1e-3"
    elif rose:
        why = f"the training loss rose from {losses[0]:.4g} to {losses[-1]:.4g}"
    else:
        return None
    return f"lower the learning rate ({why}: try --lr {lower_lr(lr):g})"


def no_better_than_mean(
    val_mse: float,
    baseline: float,
    changes: Sequence[str] = (),
    own: bool = False,
    lr_fix: str | None = None,
    room: bool = True,
) -> str | None:
    """The held-out reconstruction error is no better than predicting every feature's mean;
    ``changes``: settings the run could change (only those not in use already), said first;
    ``own``: the run trains the user's own network, sized by its own arguments; ``lr_fix``:
    :func:`lr_too_high`'s fix, said instead of training longer; ``room``: a wider code would
    still be narrower than the input (else raising --latent-dim only makes a copy of it).

    Examples
    --------
    >>> no_better_than_mean(1.2, 1.0) is not None, no_better_than_mean(0.1, 1.0)
    (True, None)
    """
    if not (np.isfinite(val_mse) and np.isfinite(baseline)) or val_mse < baseline:
        return None
    fix = (
        f"{' and '.join(changes)}, or train longer"
        if changes
        else "train longer (--epochs)"
        + (
            f", or give your encoder a wider code ({OWN_ARGS})"
            if own
            else (", or raise --latent-dim" if room else "")
        )
    )
    if lr_fix:
        fix = lr_fix + (f", and {' and '.join(changes)}" if changes else "")
    return (
        f"val_mse {val_mse:.4g} is no better than predicting each feature's mean ({baseline:.4g}): "
        f"the model reconstructs nothing; {fix}"
    )


def denoised_worse(
    val_psnr: float, noisy_psnr: float, own: bool = False, lr_fix: str | None = None
) -> str | None:
    """The denoised held-out images are further from the clean ones than the noisy inputs were
    (``own``: the user's own network); ``lr_fix``: :func:`lr_too_high`'s fix, said instead of
    training longer.

    Examples
    --------
    >>> denoised_worse(13.3, 16.2) is not None
    True
    """
    if not (np.isfinite(val_psnr) and np.isfinite(noisy_psnr)) or val_psnr > noisy_psnr:
        return None
    wider = f"widen your network ({OWN_ARGS})" if own else "widen the model (--channels 32,16)"
    fix = lr_fix or f"train longer (--epochs), or {wider}"
    return (
        f"the denoised images are worse than the noisy input (val_psnr {val_psnr:.1f} dB <= noisy_psnr "
        f"{noisy_psnr:.1f} dB): {fix}"
    )


def sample_spread(samples: np.ndarray, data: np.ndarray) -> float:
    """How much samples differ from each other, relative to the data: mean per-value std of each, as a ratio.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((50, 4))
    >>> round(sample_spread(np.repeat(x[:1], 8, 0), x), 3)
    0.0
    """
    s = np.asarray(samples, np.float64).reshape(len(samples), -1)
    d = np.asarray(data, np.float64).reshape(len(data), -1)
    return float(s.std(0).mean() / max(d.std(0).mean(), 1e-12))


def vae_collapsed(kl: float, spread: float, lr: Any, fix: str | None = None) -> str | None:
    """The VAE's posterior fell onto the prior: KL near 0 and the samples all alike (``fix``: the
    cause found, said instead of the usual ones).

    Examples
    --------
    >>> vae_collapsed(0.01, 0.02, 1e-4) is not None, vae_collapsed(6.0, 0.8, 1e-3)
    (True, None)
    """
    if not (kl < KL_COLLAPSED and spread < SPREAD_COLLAPSED):
        return None
    faster = (
        "" if not isinstance(lr, (int, float)) or lr >= 1e-3 else f" (--lr 1e-3 rather than {lr:g})"
    )
    return (
        f"the VAE collapsed: KL {kl:.3g} nats and samples alike (spread {spread:.2f} of the data's); "
        f"{fix or f'raise the learning rate{faster}, train longer (--epochs), or lower --beta'}"
    )


def one_row_threshold(rule: str) -> str | None:
    """A detector's threshold from its one training row's own score: the model reconstructs that
    row exactly, so the threshold is about 0 and every new row that differs at all is flagged (its
    note said only that such rows "often score above"); ``rule``: the threshold rule's name (a
    fixed threshold comes from no score).

    Examples
    --------
    >>> one_row_threshold("fpr")[:40], one_row_threshold("fixed")
    ("the threshold is the one training row's ", None)
    """
    if rule == "fixed":
        return None
    return (
        "the threshold is the one training row's own score (about 0: the model reconstructs its "
        "one row): nearly every new row is flagged; train on more normal rows"
    )


def reconstruction_spread(reconstructions: np.ndarray, data: np.ndarray) -> float:
    """How much reconstructions of different inputs differ, relative to how much the inputs do
    (:func:`sample_spread` of the reconstructions): near 0 when every input comes back alike."""
    return sample_spread(reconstructions, data)


def vae_alike(
    spread: float, kl: float, lr: Any, own: bool = False, fix: str | None = None
) -> str | None:
    """A VAE whose reconstructions are nearly the same for every input: collapsed, whatever the KL
    (``own``: the user's own network; ``fix``: the cause found, said instead of the usual ones).

    Examples
    --------
    >>> vae_alike(0.05, 2.6, 1e-3)[:14], vae_alike(0.7, 2.6, 1e-3)
    ('the VAE collap', None)
    """
    if not spread < RECONSTRUCTIONS_ALIKE:
        return None
    wider = f"give your encoder a wider code ({OWN_ARGS})" if own else "raise --latent-dim"
    return (
        f"the VAE collapsed: its reconstructions are nearly the same for every input (their spread "
        f"is {spread:.2f} of the data's; KL {kl:.3g} nats): it ignores what it is given; "
        f"{fix or f'lower --beta, {wider}, or train longer (--epochs)'}"
    )


def unscaled_data(x: Any, likelihood: str) -> str | None:
    """The fix of a Gaussian VAE trained on data far from unit scale (its note said so at the
    start), which collapses it whatever --beta or --latent-dim: else None.

    Examples
    --------
    >>> unscaled_data(np.full((4, 3), 200.0), "gaussian")[:28], unscaled_data(np.ones((4, 3)), "gaussian")
    ('scale the data (its values h', None)
    """
    from ..estimators.vae import GAUSSIAN_SCALE, SCALE_FIX, root_mean_square

    if likelihood != "gaussian" or isinstance(x, RowStore) or not np.size(x):
        return None
    rms = root_mean_square(x)
    if rms <= GAUSSIAN_SCALE:
        return None
    return (
        f"scale the data (its values have a root mean square of {rms:.3g}; a Gaussian likelihood "
        f"needs about 1): {SCALE_FIX}"
    )


def alarms_everywhere(
    rate: float, rule: Any = None, whole: bool = True, held: Sequence[str] = ()
) -> str | None:
    """A series detector that flags most of the recording raises no alarm worth the name. The
    fixes are those not followed already: channels that ``held`` one value while training (each
    change in them is flagged) are the cause; else a normal stretch when it trained on the
    ``whole`` recording (--train-steps), and a higher threshold than its ``rule`` gives.

    Examples
    --------
    >>> alarms_everywhere(0.8)[:24], alarms_everywhere(0.02)
    ('the detector flags 80% o', None)
    """
    if not (np.isfinite(rate) and rate > ALARMS_MOST):
        return None
    said = f"the detector flags {rate:.0%} of the recording's steps, so its alarms say little"
    if held:
        return (
            f"{said}: channel {', '.join(held[:5])} held one value while training, and every "
            f"change in it is flagged (see the warning on it)"
        )
    fixes = ["train on a normal stretch (--train-steps N)"] if whole else []
    return f"{said}: {' or '.join([*fixes, higher_threshold(rule)])}"


def higher_threshold(rule: Any) -> str:
    """The option that raises the threshold above what ``rule`` (an estimator's threshold rule, or
    None for the series default) gives.

    Examples
    --------
    >>> from aekit.estimators.thresholds import get_threshold
    >>> higher_threshold(get_threshold("max", margin=1.5)), higher_threshold(get_threshold("percentile", q=99))
    ('raise the threshold (--margin 3)', 'raise the threshold (--threshold max)')
    >>> higher_threshold(get_threshold("fixed", value=3)), higher_threshold(get_threshold("fpr", rate=0.01))
    ('raise the threshold (--threshold 6)', 'raise the threshold (--threshold fpr:0.001)')
    """
    name = getattr(rule, "name", "max")
    if name == "max":
        return f"raise the threshold (--margin {2 * float(getattr(rule, 'margin', 1.5)):g})"
    if name == "percentile" and float(rule.q) < 99:
        return "raise the threshold (--q 99)"
    if name == "fixed":  # a value the user set: twice it, said as the option takes it
        return f"raise the threshold (--threshold {2 * float(rule.value):g})"
    if name in ("fpr", "pot"):  # a rate: a smaller one is a higher threshold
        return f"raise the threshold (--threshold {name}:{float(rule.rate) / 10:g})"
    return "raise the threshold (--threshold max)"


def infinite_scores(count: int, rows: str, mean_score: bool = True) -> str | None:
    """``count`` of the ``rows`` scored inf: their squared error overflows float32, so they hold
    values far beyond the training data's (a sentinel for a missing reading, such as 3.4e38).
    ``mean_score``: whether the figures hold a mean score, which the inf ones make inf (the
    unlabelled figures; the labelled have none).

    Examples
    --------
    >>> print(infinite_scores(2, "held-out rows")[:60])
    2 of the held-out rows score inf (their squared error overfl
    >>> infinite_scores(0, "held-out rows") is None
    True
    """
    if not count:
        return None
    one = count == 1
    return (
        f"{count} of the {rows} {'scores' if one else 'score'} inf ({'its' if one else 'their'} "
        f"squared error overflows float32): {'it holds' if one else 'they hold'} values far "
        f"beyond the training data's (a sentinel for a missing reading, such as 3.4e38?); "
        f"{'it counts as an anomaly' if one else 'they count as anomalies'}"
        + (", and makes mean_score inf (null in JSON)" if mean_score else "")
    )
