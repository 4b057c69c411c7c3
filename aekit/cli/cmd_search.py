"""``aekit index`` and ``aekit neighbors``: search a run's latent space for the items most like a query."""

from __future__ import annotations

import argparse

from .options import add_data_options, recorded_image_size
from .types import positive_int

FIGURE_QUERIES = 8  # queries on each page of the neighbours figure
FIGURE_CAP = 64  # queries drawn by default (--figure-queries): 8 pages


def register(subparsers) -> None:
    ix = subparsers.add_parser(
        "index", help="encode data with a run's model into an index for 'aekit neighbors'"
    )
    ix.add_argument("run", metavar="RUN", help="a basic, stacked or vae run folder")
    ix.add_argument(
        "--input",
        required=True,
        metavar="PATH",
        help="the items: .npy, .npz, .csv/.tsv or a folder "
        "of images (file names or --id-column become ids)",
    )
    ix.add_argument("--output", required=True, metavar="INDEX", help="the index folder to write")
    ix.add_argument(
        "--metric",
        choices=("euclidean", "cosine"),
        default="euclidean",
        help="distance between latent vectors (default euclidean)",
    )
    add_data_options(ix, builtin=False)
    ix.add_argument("--overwrite", action="store_true", help="replace an existing index")
    ix.set_defaults(func=cmd_index)

    nb = subparsers.add_parser(
        "neighbors", help="the nearest items of an index to each query, with distances"
    )
    nb.add_argument("index", metavar="INDEX", help="an index folder written by 'aekit index'")
    nb.add_argument(
        "--query", required=True, metavar="PATH", help="the queries, read like the index's --input"
    )
    nb.add_argument(
        "-k", type=positive_int, default=10, metavar="K", help="neighbours per query (default 10)"
    )
    nb.add_argument(
        "--output",
        required=True,
        metavar="CSV",
        help="query,rank,neighbor,distance rows; for images "
        "also a figure beside it (same name, .png)",
    )
    nb.add_argument(
        "--no-figure",
        action="store_true",
        help="skip the figure of queries beside their neighbours",
    )
    nb.add_argument(
        "--figure-queries",
        type=positive_int,
        metavar="N",
        help=f"queries drawn in the figure, {FIGURE_QUERIES} a page (OUTPUT.png, OUTPUT-2.png, ...; "
        f"default the first {FIGURE_CAP})",
    )
    nb.add_argument("--overwrite", action="store_true", help="replace existing output files")
    nb.set_defaults(func=cmd_neighbors)


def _read(path: str, read: dict, est):
    """The items or queries at ``path``, read with the index's options and the model's feature columns."""
    from ..data import read_path

    names = getattr(est, "feature_names_in_", None)
    size = read.get("image_size")
    return read_path(
        path,
        npz_key=read.get("npz_key"),
        label_column=read.get("label_column"),
        id_column=read.get("id_column"),
        columns=list(names) if names is not None else None,
        image_size=tuple(size) if size is not None else None,
    )


def _ids(data) -> list:
    """File names, the id column, or row numbers."""
    if data.names is not None:
        return list(data.names)
    if data.ids is not None:
        return [v.item() if hasattr(v, "item") else v for v in data.ids]
    return list(range(len(data)))


def cmd_index(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .._io import refuse_existing
    from ..errors import UsageError
    from ..estimators.neighbors import INDEX_CONFIG, LatentIndex
    from ..recipes import load_run

    est, _, config = load_run(args.run)
    if not hasattr(est, "inverse_transform"):  # only latent-variable models map samples to vectors
        raise UsageError(
            f"{args.run} is a {config.get('family', type(est).__name__)} run without a latent space "
            f"to search; use a basic, stacked or vae run"
        )
    refuse_existing(Path(args.output) / INDEX_CONFIG, args.overwrite)
    read = {
        "npz_key": args.npz_key,
        "label_column": args.label_column,
        "id_column": args.id_column,
        # the size the run was trained at unless another is given (as every command on a run)
        "image_size": list(args.image_size or recorded_image_size(config) or []) or None,
    }
    data = _read(args.input, read, est)
    index = LatentIndex(encoder=est, metric=args.metric).fit(data.x, ids=_ids(data))
    labels = None if data.y is None else [v.item() if hasattr(v, "item") else v for v in data.y]
    index.save(
        args.output,
        overwrite=args.overwrite,
        extra={
            "run": str(Path(args.run).resolve()),
            "input": str(Path(args.input).resolve()),
            "read": read,
            "labels": labels,
        },
    )
    print(
        f"wrote an index of {len(index.ids_)} vectors of size {index.vectors_.shape[1]} ({args.metric}) "
        f"to {args.output}"
    )
    return 0


def cmd_neighbors(args: argparse.Namespace) -> int:
    import csv
    import io
    from pathlib import Path

    from .. import _io
    from .._io import refuse_existing
    from ..estimators.neighbors import LatentIndex, read_index_config
    from ..recipes import load_run

    config = read_index_config(args.index)
    est, _, _ = load_run(config["run"])
    index = LatentIndex.load(args.index, encoder=est)
    figure = Path(args.output).with_suffix(".png")
    refuse_existing(args.output, args.overwrite)
    queries = _read(args.query, config.get("read") or {}, est)
    dist, idx = index.kneighbors(queries.x, k=min(args.k, len(index.ids_)))
    labels = config.get("labels")
    query_ids = _ids(queries)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["query", "rank", "neighbor", "distance"] + (["label"] if labels else []))
    for q in range(len(idx)):
        for r, (i, d) in enumerate(zip(idx[q], dist[q]), start=1):
            writer.writerow(
                [query_ids[q], r, index.ids_[i], repr(float(d))] + ([labels[i]] if labels else [])
            )
    _io.write_text(args.output, buf.getvalue())
    print(f"wrote {idx.shape[1]} neighbours of each of {len(idx)} queries to {args.output}")
    if queries.x.ndim == 4 and not args.no_figure:
        cap = min(len(idx), args.figure_queries or FIGURE_CAP)
        pages = [
            figure if p == 0 else figure.with_name(f"{figure.stem}-{p + 1}.png")
            for p in range(-(-cap // FIGURE_QUERIES))
        ]
        for page in pages:
            refuse_existing(page, args.overwrite)
        _figure(config, est, queries, idx, dist, labels, pages, query_ids)
        more = "" if cap == len(idx) else f" (--figure-queries {len(idx)} draws them all)"
        print(f"wrote {', '.join(map(str, pages))}: queries 1-{cap} of {len(idx)}{more}")
    return 0


def _figure(config, est, queries, idx, dist, labels, pages, query_ids) -> None:
    """The queries beside their neighbours' images (read again from the index's input), a page of
    FIGURE_QUERIES each, each query named."""
    import numpy as np

    from ..plots import plot_neighbors

    items = _read(config["input"], config.get("read") or {}, est)
    for p, path in enumerate(pages):
        rows = np.arange(p * FIGURE_QUERIES, min((p + 1) * FIGURE_QUERIES, len(idx)))
        shown = idx[rows]
        panel_labels = None
        if labels and queries.y is not None:
            panel_labels = [
                v for q, row in zip(rows, shown) for v in [queries.y[q], *[labels[i] for i in row]]
            ]
        plot_neighbors(
            queries.x[rows],
            items.x[shown],
            path,
            distances=dist[rows],
            labels=panel_labels,
            title=f"nearest neighbours by latent vector ({config['metric']}): queries "
            f"{rows[0] + 1}-{rows[-1] + 1} of {len(idx)}",
            query_names=[query_ids[q] for q in rows],
        )
