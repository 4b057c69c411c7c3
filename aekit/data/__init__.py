"""aekit's data layer: built-in datasets, the user's files, and writing results back.

Everything is read into :class:`Data` (float32 ``x``, optional labels and the names needed to
write results in the input's form). Importing this package is cheap: torch and Pillow are
imported only when used.
"""

from .builtin import (
    DATASETS,
    ECG5000,
    MNIST,
    BinarizedMNIST,
    FashionMNIST,
    ecg5000_classic_split,
    get_dataset,
    load_builtin,
)
from .checks import as_array, as_labels
from .container import Data, columns_by_name
from .download import Resource, download_resource
from .images import resize_images
from .readers import read_path
from .root import data_root
from .rowstore import NpyRows, RowStore, RowsView
from .sizing import default_memory_cap, estimate_bytes, parse_size, should_stream
from .spill import DiskData, open_rows, spill_images, spill_table
from .tables import iter_table
from .writers import write_output

__all__ = [
    "Data",
    "columns_by_name",
    "read_path",
    "iter_table",
    "as_array",
    "as_labels",
    "write_output",
    "resize_images",
    "data_root",
    "DATASETS",
    "get_dataset",
    "load_builtin",
    "ecg5000_classic_split",
    "MNIST",
    "FashionMNIST",
    "BinarizedMNIST",
    "ECG5000",
    "Resource",
    "download_resource",
    "NpyRows",
    "RowsView",
    "RowStore",
    "DiskData",
    "open_rows",
    "spill_table",
    "spill_images",
    "should_stream",
    "estimate_bytes",
    "parse_size",
    "default_memory_cap",
]
