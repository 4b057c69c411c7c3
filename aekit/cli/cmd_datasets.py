"""``aekit datasets list`` and ``aekit datasets download NAME``: the built-in datasets."""

from __future__ import annotations

import argparse

from .options import DATASET_NAMES


def register(subparsers) -> None:
    ds = subparsers.add_parser("datasets", help="list or download the built-in datasets")
    dsub = ds.add_subparsers(dest="action", metavar="ACTION", parser_class=type(ds))
    dsub.add_parser("list", help="the built-in datasets").set_defaults(func=cmd_datasets_list)
    dl = dsub.add_parser("download", help="download (or verify) a built-in dataset")
    dl.add_argument("name", metavar="NAME", help=f"the dataset: {', '.join(DATASET_NAMES)}")
    dl.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the data root to download into (default: $AEKIT_DATA, then the user cache folder)",
    )
    dl.set_defaults(func=cmd_datasets_download)


def cmd_datasets_list(args: argparse.Namespace) -> int:
    from ..data import DATASETS, data_root
    from .streams import require_stdout

    require_stdout("the list of datasets")
    print(f"data root: {data_root()}")
    for name, cls in DATASETS.items():
        print(f"{name:16s} {cls.description}")
    return 0


def cmd_datasets_download(args: argparse.Namespace) -> int:
    from ..data import data_root, get_dataset

    cls = get_dataset(args.name)
    folder = cls.download(root=args.data_dir)
    print(f"{args.name}: verified in {folder or data_root(args.data_dir)}")
    return 0
