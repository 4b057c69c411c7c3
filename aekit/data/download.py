"""Download and verify dataset files (in the spirit of ``torchvision.datasets.utils``).

A :class:`Resource` names one file and how to check it: the sha256 and size of its
*decompressed* content, so that a re-gzipped copy verifies as well as the canonical one.
:func:`download_resource` tries each URL in turn, streams into ``FILENAME.part``, checks the
content and only then renames the file into place: a failed or interrupted download never
leaves a partial file behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import _io
from ..errors import RunFailure, one_line

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
#: Largest zip member that :func:`extract_member` agrees to unpack (bytes).
MAX_MEMBER_BYTES = 1 << 30
USER_AGENT = "aekit (+https://github.com/)"


@dataclass(frozen=True)
class Resource:
    """One dataset file: where to get it and how to recognise it.

    Parameters
    ----------
    filename : str
        The name in the dataset folder (``.gz`` files are stored compressed).
    sha256, size : str, int
        The decompressed bytes' digest and length.
    urls : tuple of str
        The canonical location first, then mirrors.
    member : str, optional
        Each URL points to a zip archive and the file is this member of it.
    password : bytes, optional
        For archives that need one.

    Examples
    --------
    >>> from aekit.data import MNIST
    >>> MNIST.resources[0].filename
    'train-images-idx3-ubyte.gz'
    """

    filename: str
    sha256: str
    size: int
    urls: tuple[str, ...] = field(default_factory=tuple)
    member: str | None = None
    password: bytes | None = None


def _open_content(path: Path):
    """Open ``path`` for reading, decompressing a ``.gz`` file (or a download of one in progress,
    named as :func:`aekit._io.scratch_path` names it) on the fly."""
    temp = _io.TEMP.fullmatch(path.name)
    name = temp["name"] if temp else path.name
    return gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")


def verify(path: str | os.PathLike, resource: Resource) -> bool:
    """True when the (decompressed) content of ``path`` has the resource's size and sha256."""
    path = Path(path)
    digest, size = hashlib.sha256(), 0
    try:
        with _open_content(path) as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (OSError, EOFError) as exc:  # missing, unreadable or corrupt gzip
        logger.debug("cannot verify %s: %s", path, exc)
        return False
    return size == resource.size and digest.hexdigest() == resource.sha256


def _fetch(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` into ``dest`` (overwritten)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as f:
        shutil.copyfileobj(response, f, CHUNK)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _safe_member_name(name: str) -> bool:
    """False for absolute paths, drive letters and ``..`` components."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return not (posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or ".." in parts)


def extract_member(
    archive: str | os.PathLike,
    member: str,
    dest: str | os.PathLike,
    *,
    password: bytes | None = None,
    max_bytes: int = MAX_MEMBER_BYTES,
) -> None:
    """Extract the single ``member`` of the zip ``archive`` into the file ``dest``.

    Refuses (:class:`RunFailure`) members with an absolute path or ``..``, and members larger
    than ``max_bytes``, whether declared so in the archive or found so while unpacking.
    """
    if not _safe_member_name(member):
        raise RunFailure(f"refusing zip member {member!r}: absolute paths and '..' are not allowed")
    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise RunFailure(
                    f"zip archive {Path(archive).name} has no member {member!r}"
                ) from None
            if info.file_size > max_bytes:
                raise RunFailure(
                    f"refusing zip member {member!r}: {info.file_size} bytes is over the limit of {max_bytes}"
                )
            written = 0
            with zf.open(info, pwd=password) as src, open(dest, "wb") as out:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:  # the header lied about the size
                        raise RunFailure(
                            f"refusing zip member {member!r}: more than {max_bytes} bytes"
                        )
                    out.write(chunk)
    except (zipfile.BadZipFile, RuntimeError, OSError) as exc:
        if isinstance(exc, RunFailure):
            raise
        raise RunFailure(
            one_line(f"cannot extract {member!r} from {Path(archive).name}: {exc}")
        ) from exc


def download_resource(
    resource: Resource,
    folder: str | os.PathLike,
    timeout: float = 30,
    retries: int = 3,
    backoff: float = 1.0,
    max_member_bytes: int = MAX_MEMBER_BYTES,
) -> Path:
    """Download ``resource`` into ``folder`` and return the verified file's path.

    Each URL gets up to ``retries`` attempts, waiting ``backoff * 2**attempt`` seconds between
    them (HTTP 4xx errors and checksum mismatches move on to the next URL at once). Raises
    :class:`RunFailure` with one line when every URL fails. No work file is left behind.

    Parameters
    ----------
    resource : Resource
        The file, its checksum and its URLs.
    folder : str or Path
        Where it goes (made when missing).
    timeout : float, default 30
        Seconds to wait for a server.
    retries : int, default 3
        Attempts per URL.
    backoff : float, default 1.0
        Seconds before the second attempt, doubled after each.
    max_member_bytes : int
        The most bytes a zip member may hold once extracted.

    Examples
    --------
    >>> from aekit.data import MNIST
    >>> download_resource(MNIST.resources[3], "/tmp/data/mnist")  # doctest: +SKIP
    PosixPath('/tmp/data/mnist/t10k-labels-idx1-ubyte.gz')
    """
    folder = Path(folder)
    with no_folder_left_empty(folder):
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / resource.filename
        reason = "no URL to download from"
        # work files of unique names, never a fixed NAME.part that a link planted there would redirect
        with _io.scratch_path(target, ".part") as part, _io.scratch_path(target, ".zip") as archive:
            for url in resource.urls:
                ok, reason = _from_url(
                    resource, url, part, archive, timeout, retries, backoff, max_member_bytes
                )
                if ok:
                    os.replace(part, target)
                    return target
        raise _failed(resource, folder, reason)


@contextlib.contextmanager
def no_folder_left_empty(folder: Path):
    """Around a download into ``folder``: when it fails, the folders of ``folder``'s path that were
    missing before and are empty now are removed, deepest first (a download that wrote nothing
    leaves no folder of its own making; a folder that was there, or holds anything, stays)."""
    made = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]  # deepest first
    try:
        yield
    except BaseException:
        for empty in made:
            with contextlib.suppress(OSError):  # not empty (or gone): not ours to remove
                empty.rmdir()
        raise


def _failed(resource: Resource, folder: Path, reason: str) -> RunFailure:
    """The one line of a download that no URL gave."""
    return RunFailure(
        one_line(
            f"could not download {resource.filename} ({reason}); put the files in {folder}, or "
            f"point --data-dir (AEKIT_DATA) at a data root that holds them"
        )
    )


def _from_url(
    resource: Resource,
    url: str,
    part: Path,
    archive: Path,
    timeout: float,
    retries: int,
    backoff: float,
    max_member_bytes: int,
) -> tuple[bool, str]:
    """Up to ``retries`` attempts at one URL: (whether ``part`` now holds the verified file, why not)."""
    reason = ""
    for attempt in range(max(1, retries)):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            logger.info("downloading %s from %s", resource.filename, url)
            not_there = _fetch_resource(resource, url, part, archive, timeout, max_member_bytes)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: bad URL
            reason = f"{_reason(exc)} from {url}"
            # the final error says why
            logger.info("download of %s failed: %s", resource.filename, reason)
            if isinstance(exc, urllib.error.HTTPError) and 400 <= exc.code < 500:
                return False, reason  # retrying a 404 does not help; try the next mirror
            continue
        if not_there is not None:
            return False, not_there
        if verify(part, resource):
            return True, ""
        reason = f"checksum mismatch from {url}"
        logger.warning("%s: %s", resource.filename, reason)
        return False, reason  # a wrong file will stay wrong: next mirror
    return False, reason


def _fetch_resource(
    resource: Resource, url: str, part: Path, archive: Path, timeout: float, max_member_bytes: int
) -> str | None:
    """Fetch ``url`` into ``part`` (its ``resource.member`` when it is a zip archive); None, or why not."""
    if resource.member is None:
        _fetch(url, part, timeout)
        return None
    _fetch(url, archive, timeout)
    if not zipfile.is_zipfile(archive):
        return f"not a zip archive from {url}"
    extract_member(
        archive, resource.member, part, password=resource.password, max_bytes=max_member_bytes
    )
    if resource.filename.endswith(".gz"):  # keep the declared storage form
        _gzip_in_place(part)
    return None


def _gzip_in_place(path: Path) -> None:
    """Compress ``path`` with gzip, keeping its name."""
    with _io.scratch_path(path, ".gz") as tmp:
        with open(path, "rb") as src, gzip.open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        os.replace(tmp, path)
