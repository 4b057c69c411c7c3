"""A file given to a run's model: one line when it is not of the model's width, a note when its
columns are taken by position."""

from __future__ import annotations


def check_width(x, est, path, names=None) -> None:
    """One line naming the file for a table (or array of rows) of another width than the model's:
    scikit-learn's "X has 3 features, but AnomalyDetector is expecting 5" names neither; a note when
    the file names its columns (``names``) and the model knows none (:func:`say_by_position`)."""
    from ..errors import DataError

    wanted = getattr(est, "n_features_in_", None)
    shape = getattr(est, "input_shape_", None)
    rows = tuple(getattr(x, "shape", ()))  # an array, or rows streamed from disk (a row store)
    if len(rows) < 2 or wanted is None or not (shape is None or len(shape) == 1):
        return
    if rows[1:] != (wanted,):  # images given to a model of rows too: its line says only X
        known = getattr(est, "feature_names_in_", None)
        known = [] if known is None else [str(n) for n in known]
        columns = f" ({', '.join(known[:6])}{' ...' if len(known) > 6 else ''})" * bool(known)
        got, of = (f"has {rows[1]} feature column{'s' if rows[1] != 1 else ''}", "")
        if len(rows) > 2:
            got, of = f"holds samples shaped {rows[1:]}", "rows of "
        raise DataError(
            f"{path} {got}; the model was trained on {of}{wanted}{columns}; give rows of the "
            f"model's columns"
        )
    if len(rows) == 2:
        say_by_position(est, path, names)


def say_by_position(est, path, names) -> None:
    """One note for a table with a header given to a model trained without column names (on an
    .npy, or a table without a header): its number columns are taken by position, whatever they
    are named (a score's own ``score,is_anomaly,p_value`` were scored without a word)."""
    if names is None or getattr(est, "feature_names_in_", None) is not None:
        return
    from .._notes import note

    shown = f"{', '.join(map(str, names[:6]))}{', ...' if len(names) > 6 else ''}"
    note(
        f"{path}: took its number columns ({shown}) by position: the model was trained without "
        f"column names (an .npy, or a table without a header), so none are matched by name"
    )
