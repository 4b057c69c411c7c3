"""aekit._io: atomic writes, and the temporary files a killed writer leaves."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from aekit import _io

REPO = Path(__file__).resolve().parents[1]
# a writer that stops (SIGKILL) in the middle of an atomic write, after naming its temporary file
HALF_WRITE = """
import sys, time
from aekit import _io
with _io.atomic_path(sys.argv[1], suffix=".csv") as tmp:
    tmp.write_text("half a table")
    print(tmp.name, flush=True)
    time.sleep(60)
"""


def test_the_next_write_removes_a_killed_writers_temporary_file(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", HALF_WRITE, str(tmp_path / "out.csv")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    name = proc.stdout.readline().strip()
    proc.kill()
    proc.communicate()
    assert name and (tmp_path / name).is_file()
    _io.write_text(tmp_path / "out.csv", "a\n1\n")
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


def test_only_aekits_own_temporary_files_of_dead_writers_are_removed(tmp_path):
    """A live writer's file, another machine's, and anything not exactly aekit's name are kept."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid, host = int(dead.stdout), _io._host_tag()
    other = "000000" if host != "000000" else "111111"
    stale = f".out.csv.{host}-{pid}.abcd_123.csv.tmp"
    kept = [
        f".out.csv.{host}-{os.getpid()}.abcd_123.csv.tmp",  # this process: alive
        f".out.csv.{other}-{pid}.abcd_123.csv.tmp",  # another machine's writer
        f".out.csv.{host}-{pid}.abcd123.csv.tmp",  # 7 random letters: not mkstemp's
        f"out.csv.{host}-{pid}.abcd_123.csv.tmp",  # not hidden
        f".out.csv.{host}-{pid}.abcd_123.csv.tmp.keep",
        ".out.csv.notes.tmp",
    ]
    for name in [stale, *kept]:
        (tmp_path / name).write_text("x")
    (tmp_path / f".d.{host}-{pid}.abcd_123.tmp").mkdir()  # a folder of that name: not a file
    (tmp_path / f".l.{host}-{pid}.abcd_123.tmp").symlink_to("out.csv")  # a link: kept
    _io.write_text(tmp_path / "out.csv", "a\n1\n")
    left = set(os.listdir(tmp_path))
    assert stale not in left and left >= {*kept, "out.csv"} and len(left) == len(kept) + 3


def test_a_temporary_file_a_live_writer_locks_is_kept_whatever_its_pid_says(tmp_path):
    """Stop 63's left item: a writer alive in another pid namespace (a container sharing the
    hostname and the folder) has a pid that is dead here, and its temporary file was removed
    under it. A write holds its temporary file's lock until the file is renamed or removed."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    host = _io._host_tag()
    live, stale = (tmp_path / f".out.csv.{host}-{dead}.abcd_12{i}.csv.tmp" for i in (3, 4))
    for path in (live, stale):
        path.write_text("x")
    holder = subprocess.Popen(  # holds the lock as the live writer there would
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print(1, flush=True); sys.stdin.read()", str(live)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "1\n"
        with _io.atomic_path(tmp_path / "out.csv") as tmp:
            assert not _io._unlocked(str(tmp))  # this write's own, while it writes
            tmp.write_text("a\n1\n")
    finally:
        holder.communicate("")
    assert live.is_file() and not stale.exists()
    assert _io._unlocked(str(live)) and not _io._writing  # let go once renamed


def test_many_writes_at_once_hold_a_bounded_number_of_descriptors(tmp_path):
    """Review 64 #1: each staged write held its temporary file's descriptor; aekit neighbors'
    320 figure queries (40 pages staged at once) failed past `ulimit -n`."""
    with contextlib.ExitStack() as stack:
        for i in range(3 * _io.HELD_MOST):
            stack.enter_context(_io.atomic_path(tmp_path / f"p{i}.txt")).write_text(str(i))
        assert len(_io._writing) == _io.HELD_MOST
    assert not _io._writing and len(list(tmp_path.glob("p*.txt"))) == 3 * _io.HELD_MOST


def test_a_forked_child_lets_go_of_its_parents_locks(tmp_path):
    """Review 64 #5: a child outliving its writer kept the writer's lock (flock belongs to the open
    file they share), and the dead writer's temporary file was never swept."""
    with _io.atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("x")
        pid = os.fork()
        if pid == 0:  # the child: no lock of its parent's
            os._exit(0 if not _io._writing else 1)
        assert os.waitpid(pid, 0)[1] == 0 and _io._writing
    assert (tmp_path / "out.txt").read_text() == "x"


def test_a_file_system_without_locks_leaves_the_pid_to_tell(tmp_path, monkeypatch):
    """Where flock is refused (ENOLCK: some network and FUSE file systems) no write took a lock,
    so none is waited for: a dead writer's file is swept by its pid, as before locks."""
    import errno
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    (tmp_path / "f").write_text("x")
    monkeypatch.setattr(fcntl, "flock", no_locks)
    assert _io._unlocked(str(tmp_path / "f"))
    assert not _io._unlocked(str(tmp_path / "none"))  # cannot be opened: kept


def test_an_output_checked_absent_is_not_written_over_one_another_process_wrote(tmp_path):
    """Probe 52 sh 1: two commands writing one output both said so and the second replaced the
    first's, neither with --overwrite (the check at the start, then os.replace at the end)."""
    import pytest

    from aekit._outputs import check_output
    from aekit.errors import UsageError

    out = check_output(tmp_path / "scores.csv")  # absent, no --overwrite: create only
    with pytest.raises(UsageError, match="written by another process"), _io.atomic_path(out) as tmp:
        tmp.write_text("mine\n")
        out.write_text("theirs\n")  # another command finished first
    assert out.read_text() == "theirs\n" and os.listdir(tmp_path) == ["scores.csv"]
    out2 = check_output(tmp_path / "fresh.csv")
    with _io.atomic_path(out2) as tmp:
        tmp.write_text("mine\n")
    with _io.atomic_path(out2) as tmp:  # written: this process's own from now on
        tmp.write_text("again\n")
    assert out2.read_text() == "again\n"
    check_output(tmp_path / "scores.csv", overwrite=True)  # --overwrite: replaced
    with _io.atomic_path(out) as tmp:
        tmp.write_text("mine\n")
    assert out.read_text() == "mine\n"


def test_csv_rows_quote_a_carriage_return_so_the_rows_stay_whole():
    # an id "x\ry" went out bare: pandas and csv.reader split its row in two
    import csv
    import io

    import numpy as np

    import aekit
    from aekit._io import CsvRows
    from aekit.estimators.anomaly import score_table

    out = io.StringIO()
    CsvRows(out).writerows([["id", "v"], ["x\ry", "1"], ["a,b", "2"], ["z", "3"]])
    assert out.getvalue().endswith("z,3\n") and "\r\n" not in out.getvalue()
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [
        ["id", "v"], ["x\ry", "1"], ["a,b", "2"], ["z", "3"]
    ]  # fmt: skip
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    det = aekit.AnomalyDetector(epochs=1, threads=1, verbose=0).fit(X)
    table = score_table(det, X[:3], ids=np.array(["x\ry", "b", "c"]))
    rows = list(csv.reader(io.StringIO(table, newline="")))
    assert [r[0] for r in rows] == ["id", "x\ry", "b", "c"]


def test_writes_read_the_umask_without_setting_it(tmp_path, monkeypatch):
    """Probe 57 citizen #6: each write set the process's umask to 0 and back: a file another thread
    created in between was world-writable. Where the system says it, it is only read."""
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc/self/status: setting the umask and back is the only way there")

    def refuse(mask):
        raise AssertionError(f"os.umask({mask:o}) changed the process's umask")

    umask = os.umask
    old = umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", refuse)
        with _io.atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("a")
    finally:
        monkeypatch.undo()
        umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640


# writes past a file-size limit: numpy's short write (no errno) and a plain write (EFBIG)
OVER_THE_LIMIT = """
import sys
import numpy as np
from aekit import _io
from aekit.errors import WriteFailure
def npy(tmp):
    with open(tmp, "wb") as f:
        np.save(f, np.zeros((1000, 50), np.float32))
for writer in (npy, lambda tmp: tmp.write_bytes(bytes(300_000))):
    try:
        _io.write_with(sys.argv[1], writer)
    except WriteFailure as exc:
        print(exc)
"""


def test_a_file_size_limit_is_named_not_a_full_disk(tmp_path):
    """Probe 58 locked F2: under ``ulimit -f 100`` a .npy output said "no space left on device" (with
    30 GB free) and a plain write "free some space or write elsewhere": neither lifts the limit."""
    import resource

    def limited():
        resource.setrlimit(
            resource.RLIMIT_FSIZE, (100 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1])
        )

    proc = subprocess.run(
        [sys.executable, "-c", OVER_THE_LIMIT, str(tmp_path / "rec.npy")],
        cwd=REPO,
        capture_output=True,
        text=True,
        preexec_fn=limited,
        timeout=120,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout + proc.stderr
    for line in lines:
        assert "file-size limit of 102,400 bytes (ulimit -f)" in line and "rec.npy" in line, line
        assert "no space" not in line and "free some space" not in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["y" * 251 + ".png", "日本" * 41 + ".png", "caf\udce9" * 62 + ".png"]
)
def test_a_name_of_up_to_255_bytes_is_written_its_temporary_name_cut_to_fit(tmp_path, name):
    """probe 59 locale L1: --overlay of an input named in 222 to 255 bytes failed after all the work
    ("file name too long"): the temporary file's name was about 34 bytes longer than the file's."""
    assert len(os.fsencode(name)) <= 255
    with _io.atomic_path(tmp_path / name, suffix=".png") as tmp:
        assert len(os.fsencode(tmp.name)) <= _io.longest_temp_name(name) <= 255
        assert _io.TEMP.fullmatch(tmp.name)  # still one a later write can sweep
        tmp.write_bytes(b"png")
    assert os.listdir(tmp_path) == [name]


def test_figures_that_are_not_finite_are_null_and_named():
    """probe 60 training 5: a mean score of inf in metrics.json failed the whole trained run."""
    import numpy as np

    from aekit._io import finite_figures

    figures = {"a": 1.0, "mean": np.float32("inf"), "by": {"x": [2, float("nan")]}, "ok": None}
    assert finite_figures(figures) == (
        {"a": 1.0, "mean": None, "by": {"x": [2, None]}, "ok": None},
        ["mean (inf)", "by.x[1] (nan)"],
    )


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o600), (0o077, 0o664), (0o002, 0o444)])
def test_a_replaced_file_keeps_its_mode_and_group(tmp_path, mask, mode):
    """probe 61 modes #3: --overwrite made a 0600 output 0644 and dropped its group; a file
    written over another keeps its mode, as open(path, "w") keeps it."""
    path = tmp_path / "s.csv"
    path.write_text("old")
    os.chmod(path, mode)
    group = os.getegid() + 4242 if os.geteuid() == 0 else None  # root may give any group
    if group is not None:
        os.chown(path, -1, group)
    old = os.umask(mask)
    try:
        _io.write_text(path, "new")
    finally:
        os.umask(old)
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == mode
    assert group is None or path.stat().st_gid == group


def test_a_private_file_stays_private_while_it_is_written(tmp_path):
    """review 1 F4: the new version of a 0600 output was 0644 (the umask's) until the rename, and
    anyone could open it meanwhile and read on."""
    path = tmp_path / "private.csv"
    path.write_text("secret v1")
    os.chmod(path, 0o600)
    old = os.umask(0o022)
    try:
        with _io.atomic_path(path) as tmp:
            assert stat.S_IMODE(tmp.stat().st_mode) == 0o600
            tmp.write_text("secret v2")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(
        path, 0o444
    )  # review 2 R2-3: a 0444 temporary left its (non-root) writer unable to fill it
    with _io.atomic_path(path) as tmp:
        assert stat.S_IMODE(tmp.stat().st_mode) & 0o600 == 0o600
        tmp.write_text("v3")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_a_mode_is_never_carried_through_a_link(tmp_path):
    """review 1 F6: take_mode checked an entry with lstat, then chmod followed a link swapped in
    meanwhile: the link's target took the mode."""
    victim = tmp_path / "victim"
    victim.write_text("x")
    os.chmod(victim, 0o600)
    (tmp_path / "link").symlink_to(victim)
    like = os.stat(tmp_path)  # a folder's mode, 0o755-ish
    _io.take_mode(tmp_path / "link", like)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600


def _default_acl(folder: Path) -> None:
    """A default ACL on ``folder`` (user::rwx user:nobody:rwx group::r-x mask::rwx other::r-x),
    set as its extended attribute (no setfacl needed); skipped where the file system has none."""
    import struct

    every = 0xFFFFFFFF
    entries = [(1, 7, every), (2, 7, 65534), (4, 5, every), (0x10, 7, every), (0x20, 5, every)]
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)
    try:
        os.setxattr(folder, "system.posix_acl_default", acl)
    except (OSError, AttributeError) as exc:
        pytest.skip(f"no POSIX ACLs here ({exc})")


def test_new_files_take_the_mode_open_gives_them(tmp_path):
    """probe 61 modes #4: atomic writes made their file 0600 then chmod'ed it from the umask, so
    a folder's default ACL (which replaces the umask) was ignored: a user the ACL names could not
    read aekit's files under umask 077. They are made 0666 as open() makes a file."""
    _default_acl(tmp_path)
    old = os.umask(0o077)
    try:
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
        _io.write_text(tmp_path / "atomic.txt", "x")
        with _io.scratch_path(tmp_path / "download") as part:
            scratch = stat.S_IMODE(part.stat().st_mode)
    finally:
        os.umask(old)
    plain = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert plain != 0o600  # the ACL, not the umask
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == plain == scratch


def test_a_temporary_folder_a_killed_process_left_is_removed_by_the_next(tmp_path, monkeypatch):
    """Probe 63 memory #2: a streamed training killed outright (SIGKILL, the OOM killer) left its
    float32 copy of the data in $TMPDIR/aekit-stream-*/, as large as the data, and no later run
    removed it. Only this machine's folders, named exactly so, of a dead process whose lock no
    process holds, are removed (review 63 #1: a live one in another pid namespace, a container
    sharing the hostname and /tmp, has a pid that is dead here)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    host = _io._host_tag()
    stale = tmp_path / f"aekit-stream-{host}-{dead}-abcd_123"
    (stale / "sub").mkdir(parents=True)
    (stale / _io.OWNER).touch()  # its owner's lock, released when it died
    (stale / "sub" / "x.npy").write_bytes(b"0" * 100)
    elsewhere = tmp_path / f"aekit-stream-{host}-{dead}-abcd_125"  # alive in another namespace
    elsewhere.mkdir()
    holder = subprocess.Popen(  # holds the lock as the live process there would
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | "
         "os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); print(1, flush=True); sys.stdin.read()",
         str(elsewhere / _io.OWNER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "1\n"
        kept = [
            elsewhere,
            tmp_path / f"aekit-stream-{host}-{os.getpid()}-abcd_123",  # a live process's
            tmp_path / f"aekit-stream-000000-{dead}-abcd_123",  # another machine's
            tmp_path / f"aekit-stream-{host}-{dead}-mine",  # not aekit's name
            tmp_path / f"aekit-stream-{host}-{dead}-abcd_126",  # no lock: not one aekit made
        ]
        for folder in kept:
            folder.mkdir(exist_ok=True)
        (tmp_path / f"aekit-stream-{host}-{dead}-abcd_124").write_text("a file, not a folder")
        made = Path(_io.temp_folder("aekit-stream-"))
    finally:
        holder.communicate("")
    assert made.is_dir() and made.parent == tmp_path and f"-{os.getpid()}-" in made.name
    assert [p.name for p in made.iterdir()] == [_io.OWNER]
    assert not stale.exists()
    assert all(folder.is_dir() for folder in kept)
    assert (tmp_path / f"aekit-stream-{host}-{dead}-abcd_124").is_file()
    assert not list(tmp_path.glob(".aekit-stream-*"))  # the folder made under another name
