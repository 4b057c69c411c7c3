"""aekit._transaction: folders built beside their target, swapped in whole, under a lock beside them."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aekit import _io, _manifest
from aekit import _removal as removal
from aekit import _transaction as tx
from aekit.errors import RunFailure, RunInProgress, UsageError


def _folder(path, **files):
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = _folder(tmp_path / "a", x="a"), _folder(tmp_path / "b", x="b")
    try:
        tx.exchange(a, b)
    except tx.SwapUnsupported:
        pytest.skip(
            "renameat2(RENAME_EXCHANGE) is not available here; the fallback is tested below"
        )
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


@pytest.mark.parametrize("swap", ["exchange", "fallback"])
def test_commit_replaces_the_target_and_leaves_nothing_beside_it(tmp_path, monkeypatch, swap):
    if swap == "fallback":
        monkeypatch.setattr(
            tx, "exchange", lambda a, b: (_ for _ in ()).throw(tx.SwapUnsupported(38, "no"))
        )
    target = _folder(tmp_path / "run", x="old")
    with tx.FolderTransaction(target).acquire() as t:
        work = t.begin()
        (work / "x").write_text("new")
        assert (target / "x").read_text() == "old"
        t.commit()
    assert (target / "x").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_kill_inside_the_fallback_window_is_recovered(tmp_path):
    """The fallback renames the target away, then the new folder in: killed between, readers and the
    next writer find the previous folder at .NAME.old."""
    target = _folder(tmp_path / "run", x="old")
    os.rename(target, tx.old_path(target))  # the state a kill between the two renames leaves
    assert tx.readable(target) == tx.old_path(target)
    with tx.FolderTransaction(target).acquire():
        pass
    assert (target / "x").read_text() == "old" and not tx.old_path(target).exists()


def test_a_stale_staging_folder_is_continued_only_when_marked(tmp_path):
    target = tmp_path / "run"
    # an old run swapped out just before a kill: no marker
    stale = _folder(tx.staging_path(target), keep="1")
    with tx.FolderTransaction(target).acquire() as t:
        assert not t.resumable()
        assert not (t.begin(reuse=True) / "keep").exists()  # never mistaken for a run being built
        (stale / ".x.123.tmp").write_text("half")
        (stale / "ckpt").write_text("1")
    with tx.FolderTransaction(target).acquire() as t:
        assert t.resumable()
        work = t.begin(reuse=True)
        # a dead writer's temp file
        assert (work / "ckpt").exists() and not (work / ".x.123.tmp").exists()
        t.commit()
    assert not (target / tx.MARKER).exists()


def test_the_lock_refuses_a_second_writer_and_readers_see_who_writes(tmp_path):
    target = tmp_path / "run"
    code = (
        "import sys, time; from aekit._transaction import FolderTransaction\n"
        f"t = FolderTransaction({str(target)!r}).acquire(); t.begin(); print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert tx.holder(target) == holder.pid
        with pytest.raises(RunFailure, match=f"in use by aekit process {holder.pid}"):
            tx.FolderTransaction(target).acquire()
        with pytest.raises(RunInProgress, match="still being written"):
            tx.check_not_in_progress(target)
    finally:
        holder.kill()
        holder.wait()
    assert tx.holder(target) is None  # the kernel dropped the lock with the process
    with pytest.raises(RunInProgress, match="interrupted"):
        tx.check_not_in_progress(target)
    with tx.FolderTransaction(target).acquire():  # the stale lock file is taken over
        assert tx.holder(target) is not None
    assert not tx.lock_path(target).exists()


def test_a_signal_landing_on_another_thread_waits_for_the_end_of_the_block():
    """A signal sent to the process may land on any thread not blocking it (torch's workers);
    Python runs its handler in the main thread all the same. Inside ``signals_deferred`` it must
    wait until the rename sequence is over, then reach the handler it was meant for."""
    hits = []

    def handler(signum, frame):
        hits.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    other = threading.Thread(target=time.sleep, args=(0.5,))
    other.start()
    try:
        with pytest.raises(KeyboardInterrupt), tx.signals_deferred():
            signal.pthread_kill(other.ident, signal.SIGTERM)
            for _ in range(50):  # bytecodes, and sleeps: where Python runs a pending handler
                time.sleep(0.001)
            inside = list(hits)
        assert inside == [] and hits == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
        other.join()


def test_a_new_version_keeps_the_users_empty_folders(tmp_path):
    """Folders the user made in an aekit folder, holding nothing (or only empty folders), are kept
    as the user's files are; a file of the new version by that name is refused, nothing lost."""
    target = tmp_path / "out"
    with tx.staged_folder(target, "output") as work:
        (work / "a.png").write_bytes(b"1")
    (target / "experiments").mkdir()
    (target / "deep" / "er").mkdir(parents=True)
    with tx.staged_folder(target, "output") as work:
        (work / "a.png").write_bytes(b"2")
    assert (target / "experiments").is_dir() and (target / "deep" / "er").is_dir()
    assert (target / "a.png").read_bytes() == b"2"
    from aekit._manifest import read_manifest

    assert sorted(read_manifest(target).files) == ["a.png"]
    with pytest.raises(ValueError, match="your folder"), tx.staged_folder(target, "output") as work:
        (work / "experiments").write_bytes(b"3")
    assert (target / "experiments").is_dir() and (target / "a.png").read_bytes() == b"2"


def test_a_full_disk_while_staging_names_the_folder_asked_for(tmp_path):
    # uncovered probe 58 #3: `aekit index --output small/idx` on a full disk named
    # small/.idx.partial/vectors.safetensors, a hidden folder already removed
    import errno

    from aekit._io import write_failure

    target = tmp_path / "idx"
    with pytest.raises(OSError) as err, tx.staged_folder(target, "output") as work:
        raise write_failure(OSError(errno.ENOSPC, "No space left"), work / "vectors.safetensors")
    assert err.value.filename == str(target / "vectors.safetensors")
    assert str(err.value).startswith(
        f"no space left on device writing {target}/vectors.safetensors"
    )
    assert ".partial" not in str(err.value) and not target.exists()


def test_folders_of_the_users_under_aekits_names_are_refused_not_deleted(tmp_path):
    # a backup named .run.old, a folder named .run.partial: removed by any write of the run
    import numpy as np

    import aekit

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    est = aekit.Autoencoder(epochs=1, threads=1, verbose=0).fit(X)
    est.save(tmp_path / "run")
    for name in (".run.old", ".run.partial"):
        backup = _folder(tmp_path / name, notes="precious")
        with pytest.raises(UsageError, match="is not aekit's"):
            est.save(tmp_path / "run", overwrite=True)
        assert (backup / "notes").read_text() == "precious"
        os.rename(backup, tmp_path / "elsewhere")
        est.save(tmp_path / "run", overwrite=True)
        os.rename(tmp_path / "elsewhere", tmp_path / f"kept{name}")


def test_an_interrupted_training_is_not_dropped_by_a_change_to_its_run(tmp_path):
    # plot or calibrate after a --resume was interrupted deleted the epochs it would continue
    target = _folder(tmp_path / "run", x="1")
    with tx.FolderTransaction(target, kind="run").acquire() as t:
        (t.begin() / tx.TRAINING).mkdir()  # a training's staging folder: then it was stopped
        (t.staging / tx.TRAINING / tx.CHECKPOINTED).write_text('{"epoch": 3}')
    with (
        pytest.raises(RunInProgress, match="interrupted training .* --resume"),
        tx.staged_folder(target, "run", seed=True),
    ):
        pass
    assert (tx.staging_path(target) / tx.MARKER).is_file()


def test_a_training_stopped_before_its_first_epoch_does_not_block_its_run(tmp_path):
    # a full disk or ulimit -f at the first checkpoint left config.json and checkpoint/threads.json:
    # calibrate and plot then refused the intact run as "an interrupted training ... --resume"
    target = _folder(tmp_path / "run", x="1")
    with tx.FolderTransaction(target, kind="run").acquire() as t:
        (t.begin() / tx.TRAINING).mkdir()
        (t.staging / tx.TRAINING / "threads.json").write_text("{}")
    with tx.staged_folder(target, "run", seed=True) as work:
        (work / "x").write_text("2")
    assert (target / "x").read_text() == "2" and not tx.staging_path(target).exists()


def test_a_killed_update_of_a_finished_run_is_redone_not_taken_for_a_training(tmp_path):
    # a calibrate killed while it redrew the figures left its copy of the run, checkpoint and all:
    # every later calibrate was refused as "an interrupted training ... --resume"
    target = _folder(tmp_path / "run", x="1")
    (target / tx.TRAINING).mkdir()  # the finished run's checkpoint, linked into the copy
    with tx.FolderTransaction(target, kind="run").acquire() as t:
        (t.begin(seed=target, discard=False) / "x").write_text("2")  # then it was killed
    assert (tx.staging_path(target) / tx.TRAINING).is_dir()
    with tx.staged_folder(target, "run", seed=True) as work:
        (work / "x").write_text("3")
    assert (target / "x").read_text() == "3" and not tx.staging_path(target).exists()


def test_the_users_files_changed_while_a_version_is_written_are_kept_as_they_are_now(tmp_path):
    # listed once at the start: a file added meanwhile was deleted by the swap, one saved anew
    # refused as a clash, one deleted brought back as aekit's
    target = tmp_path / "run"
    with tx.staged_folder(target, "run") as work:
        (work / "model.txt").write_text("v1")
    _folder(target, **{"notes.txt": "old", "gone.txt": "bye"})
    with tx.staged_folder(target, "run", seed=True) as work:
        (work / "model.txt").write_text("v2")
        (target / "added.txt").write_text("new")  # the user, meanwhile
        os.replace(_folder(tmp_path / "x", n="saved anew") / "n", target / "notes.txt")
        os.unlink(target / "gone.txt")
    assert (target / "model.txt").read_text() == "v2"
    assert (target / "added.txt").read_text() == "new"
    assert (target / "notes.txt").read_text() == "saved anew"
    assert not (target / "gone.txt").exists()


def test_a_link_at_the_lock_s_name_is_refused_not_written_through(tmp_path):
    # opened through the link, the lock file was the user's file: truncated, the pid written in
    victim = _folder(tmp_path / "elsewhere", **{"victim.txt": "precious"}) / "victim.txt"
    target = tmp_path / "run"
    tx.lock_path(target).symlink_to(victim)
    with pytest.raises(UsageError, match="symbolic link, not aekit's lock"):
        tx.FolderTransaction(target).acquire()
    assert victim.read_text() == "precious" and tx.lock_path(target).is_symlink()
    tx.lock_path(target).unlink()
    tx.lock_path(target).symlink_to(tmp_path / "nowhere" / "made_by_aekit")  # dangling
    with pytest.raises(UsageError, match="symbolic link"):
        tx.FolderTransaction(target).acquire()
    assert not (tmp_path / "nowhere").exists()


def test_a_users_file_at_the_lock_s_name_is_refused_not_truncated(tmp_path):
    # truncated, the pid written in, then removed with the lock
    target = tmp_path / "run"
    tx.lock_path(target).write_text("my notes")
    with pytest.raises(UsageError, match="not aekit's lock file"):
        tx.FolderTransaction(target).acquire()
    assert tx.lock_path(target).read_text() == "my notes"
    tx.lock_path(target).write_text("12345")  # a killed aekit's: taken over
    with tx.staged_folder(target, "output") as work:
        (work / "a.png").write_bytes(b"1")
    assert not tx.lock_path(target).exists()


def test_the_users_dot_tmp_and_dot_lock_files_are_the_users(tmp_path):
    # any .*.tmp at any depth and a .lock were taken for aekit's own: not carried, deleted
    target = tmp_path / "out"
    with tx.staged_folder(target, "output") as work:
        (work / "a.png").write_bytes(b"1")
    mine = {".lock": "a", ".notes.tmp": "b", "sub/.draft.tmp": "c", "sub/.lock": "d"}
    for rel, text in mine.items():
        (target / rel).parent.mkdir(exist_ok=True)
        (target / rel).write_text(text)
    with tx.staged_folder(target, "output") as work:
        (work / "a.png").write_bytes(b"2")
    assert {rel: (target / rel).read_text() for rel in mine} == mine
    from aekit._manifest import check_replaceable

    only_these = _folder(tmp_path / "u", **{".lock": "a", ".notes.tmp": "b"})  # was replaced whole
    with pytest.raises(UsageError, match="holds your files .lock, .notes.tmp"):
        check_replaceable(only_these, "run", option="--out")


def test_a_file_put_into_the_folder_while_the_manifest_is_hashed_is_kept(tmp_path, monkeypatch):
    # listed, then the new version's files hashed (seconds on a large run), then swapped: a file
    # the user wrote between was left in the previous version, and removed with it
    from aekit import _manifest

    target = tmp_path / "run"
    with tx.staged_folder(target, "run") as work:
        (work / "model.txt").write_text("v1")
    _folder(target, **{"notes.txt": "v1"})
    real = _manifest.write_manifest

    def slow_hash(folder, kind, **kwargs):
        (target / "late.txt").write_text("written meanwhile")
        (target / "notes.txt").unlink()
        (target / "notes.txt").write_text("saved anew meanwhile")
        return real(folder, kind, **kwargs)

    monkeypatch.setattr(_manifest, "write_manifest", slow_hash)
    with tx.staged_folder(target, "run", seed=True) as work:
        (work / "model.txt").write_text("v2")
    assert (target / "late.txt").read_text() == "written meanwhile"
    assert (target / "notes.txt").read_text() == "saved anew meanwhile"
    assert (target / "model.txt").read_text() == "v2"
    assert sorted(_manifest.ownership(target).user_files) == ["late.txt", "notes.txt"]


def test_a_file_saved_at_the_target_while_the_version_was_written_is_not_swapped_out(tmp_path):
    # the swap exchanged the user's file with the new folder, then removed it, exit 0
    target = tmp_path / "run"
    with (
        pytest.raises(UsageError, match="is now a file that aekit did not write"),
        tx.staged_folder(target, "run") as work,
    ):
        (work / "model.txt").write_text("new")
        target.write_text("the user's own file")
    assert target.read_text() == "the user's own file"


def test_a_file_system_mounted_inside_the_folder_is_refused_not_emptied(tmp_path, monkeypatch):
    # its files were copied into the new version, then deleted from it with the previous one
    target = tmp_path / "out"
    with tx.staged_folder(target, "output") as work:
        (work / "a.png").write_bytes(b"1")
    usb = _folder(target / "usb", **{"photo.jpg": "x"})
    monkeypatch.setattr(tx, "_mount_table", lambda *a: {"/proc", os.path.realpath(usb)})
    assert tx.mounts_inside(target) == [os.path.realpath(usb)] and not tx.mounts_inside(usb)
    with (
        pytest.raises(UsageError, match="file system mounted inside"),
        tx.staged_folder(target, "output") as work,
    ):
        (work / "a.png").write_bytes(b"2")
    assert (usb / "photo.jpg").read_text() == "x" and (target / "a.png").read_bytes() == b"1"


def test_the_folder_aekit_runs_in_or_one_around_it_is_refused_in_one_line(tmp_path, monkeypatch):
    # Path(".").with_name(...) was a ValueError: "internal error" for --out . and --output .
    here = _folder(tmp_path / "here" / "deep")
    monkeypatch.chdir(here)
    for target in (".", "..", str(here), "/"):
        with pytest.raises(UsageError, match="replaces whole"):
            tx.FolderTransaction(target)
    with tx.staged_folder("sub", "output") as work:  # a folder below it: written
        (work / "a.png").write_bytes(b"1")
    assert (here / "sub" / "a.png").read_bytes() == b"1"


def test_a_mount_point_is_refused_before_any_work(tmp_path, monkeypatch):
    # a Docker volume as --out: the training ran to its end, then the swap failed ("device or
    # resource busy") and the run was left outside the volume
    target = _folder(tmp_path / "volume")
    monkeypatch.setattr(tx.os.path, "ismount", lambda p: os.fspath(p) == os.fspath(target))
    with pytest.raises(UsageError, match="is a mount point, .* give a folder inside it"):
        tx.FolderTransaction(target, kind="run").acquire()
    tx.FolderTransaction(target / "run", kind="run").acquire().release()


def test_a_killed_save_or_output_is_redone_not_taken_for_a_training(tmp_path):
    # every staged folder carries the marker: a killed denoise, plot or save blocked every later
    # write of its folder, --overwrite included, advising an 'aekit train --resume'
    target = tmp_path / "out"
    with tx.staged_folder(target, "output") as work:
        (work / "x").write_text("1")
    with tx.FolderTransaction(target, kind="output").acquire() as t:
        (t.begin() / "half.png").write_text("half")  # then killed before the swap
    with tx.staged_folder(target, "output") as work:
        (work / "x").write_text("2")
    assert (target / "x").read_text() == "2" and not tx.staging_path(target).exists()


def test_a_bind_mount_of_the_same_file_system_is_seen_in_the_mount_table(tmp_path):
    # os.path.ismount compares devices: a bind mount of a folder of the same file system (a Docker
    # volume) passed, and the training ran to its end before the swap failed
    volume = _folder(tmp_path / "my volume")
    escaped = str(volume.resolve()).replace(" ", "\\040")
    table = tmp_path / "mountinfo"
    table.write_text(f"36 35 98:0 /src {escaped} rw,noatime master:1 - ext4 /dev/root rw\n")
    assert tx.is_mount_point(volume, mountinfo=str(table))
    assert not tx.is_mount_point(tmp_path, mountinfo=str(table))


# ---- permissions: what a removal cut short leaves, and the modes a new version keeps ----------------


def _output(target, **files):
    """A new version of the output folder ``target`` holding ``files`` (a "sub" folder with b.png)."""
    with tx.staged_folder(target, "output") as work:
        for name, text in files.items():
            (work / name).write_text(text)
        (work / "sub").mkdir()
        (work / "sub" / "b.png").write_text("b")


def _stuck_at_sub(real):
    """shutil.rmtree that removes everything but the folder "sub" (read-only, as a user left it)."""

    def rmtree(path, ignore_errors=False, onerror=None, onexc=None):
        path = Path(path)
        for child in [path] if path.name == "sub" else list(path.iterdir()):
            if child.name == "sub":
                if onerror or onexc:
                    (onerror or onexc)(os.rmdir, str(child), None)
            elif child.is_dir():
                real(child)
            else:
                child.unlink()

    return rmtree


def test_a_previous_version_that_cannot_be_removed_is_a_note_and_stays_aekits(
    tmp_path, monkeypatch, caplog
):
    """probe 61 modes #1: a previous version that could not be fully removed after the swap (a
    read-only subfolder) lost its manifest first, and every later writer refused .NAME.old as "not
    aekit's". The commit says it in one note and succeeds; the leftover keeps aekit's mark and the
    next writer removes it."""
    target = tmp_path / "out"
    _output(target, a="1")
    monkeypatch.setattr(tx.shutil, "rmtree", _stuck_at_sub(shutil.rmtree))
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        _output(target, a="2")
    old = tx.old_path(target)
    assert (target / "a").read_text() == "2" and old.is_dir()
    assert [r.getMessage() for r in caplog.records if str(old) in r.getMessage()], caplog.text
    assert _manifest.aekit_kind(old) == "output"  # still aekit's: its mark is removed last
    monkeypatch.undo()
    _output(target, a="3")
    assert (target / "a").read_text() == "3" and not os.path.lexists(old)


def test_a_commit_whose_swap_happened_does_not_fail(tmp_path):
    """probe 61 modes #1: a .NAME.old there at the swap (one aekit could not remove) made the
    commit exit 1 with "directory not empty" after the new version was in place, a marker left in
    it. The previous version is removed under the staging folder's name instead."""
    try:
        tx.exchange(_folder(tmp_path / "p"), _folder(tmp_path / "q"))
    except tx.SwapUnsupported:
        pytest.skip("no renameat2 here: the fallback's first rename fails, before any change")
    target = tmp_path / "out"
    _output(target, a="1")
    old = tx.old_path(target)
    with tx.staged_folder(target, "output") as work:
        (work / "a").write_text("2")
        _folder(old, left="x")  # appeared after the writer looked
    assert (target / "a").read_text() == "2" and not (target / tx.MARKER).exists()
    assert not os.path.lexists(tx.staging_path(target))


def test_a_folder_that_cannot_be_removed_is_refused_before_any_work(tmp_path, monkeypatch):
    """probe 61 modes #1 and #5: calibrate and plot replaced a run folder the user had made
    read-only (or another user's), then could not remove its previous version. Refused in one line
    before any work, as a PermissionError (#6), the folder untouched."""
    target = tmp_path / "out"
    _output(target, a="1")
    access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != target / "sub" and access(p, mode))
    with pytest.raises(PermissionError) as refused, tx.staged_folder(target, "output", seed=True):
        raise AssertionError("the work began")
    assert isinstance(refused.value, UsageError)
    assert str(refused.value).startswith(
        f"output folder {target} is not writable ({target / 'sub'} in it is not)"
    )
    assert (target / "a").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _other_group() -> int | None:
    """A group this process may give its files other than its own (any, for root), or None."""
    if os.geteuid() == 0:
        return os.getegid() + 4242
    others = [g for g in os.getgroups() if g != os.getegid()]
    return others[0] if others else None


@pytest.mark.parametrize("seed", [False, True])
def test_a_new_version_keeps_the_modes_and_group_of_the_previous_one(tmp_path, seed):
    """probe 61 modes #2: a run locked to a group (2770, files 660) came back from calibrate or
    --overwrite as 755 and 644, its group and setgid bit gone; a private one (700) world-readable."""
    target, group = tmp_path / "out", _other_group()
    _output(target, a="1")
    if group is not None:
        for p in (target, target / "a", target / "sub", target / "sub" / "b.png"):
            os.chown(p, -1, group)
    os.chmod(target, 0o2770)
    os.chmod(target / "sub", 0o700)
    os.chmod(target / "a", 0o640)
    old_mask = os.umask(0o022)
    try:
        with tx.staged_folder(target, "output", seed=seed) as work:
            _io.write_text(work / "a", "2")
            (work / "sub").mkdir(exist_ok=True)
            _io.write_text(work / "sub" / "b.png", "c")
    finally:
        os.umask(old_mask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (target, target / "a", target / "sub")}
    assert modes == {"out": 0o2770, "a": 0o640, "sub": 0o700}
    if group is not None:
        assert {p.stat().st_gid for p in (target, target / "a", target / "sub" / "b.png")} == {
            group
        }


def test_another_users_folder_in_a_sticky_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    """probe 61 modes #1: in a shared 1777 folder only the owner of a run (or of the folder) may
    move it: `train --overwrite` of another user's group-writable run trained, then failed at the
    swap. Refused in one line first."""
    target = tmp_path / "out"
    _output(target, a="1")
    os.chmod(tmp_path, 0o1777)
    owner = os.stat(target).st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    monkeypatch.setattr(removal, "_may_move_any", lambda: False)  # as an ordinary user
    with pytest.raises(
        PermissionError, match=f"output folder {target} is another user.s, in the sticky folder"
    ):
        tx.FolderTransaction(target, kind="output").acquire()
    os.chmod(tmp_path, 0o700)
    monkeypatch.undo()
    assert (target / "a").read_text() == "1"


def test_an_entry_another_process_removed_first_is_removed_not_stuck(tmp_path, monkeypatch):
    """review 1 F3: 3.11's rmtree calls back for a file another process removed meanwhile, and the
    removal counted it as one it could not remove: a false note, then a refusal saying "make its
    folders writable"."""
    target = _folder(tmp_path / "t" / "figures", a="1").parent
    real = shutil.rmtree

    def vanished(path, **kw):
        real(path)
        gone = FileNotFoundError(2, "No such file or directory", str(Path(path) / "a"))
        for callback, arg in (("onexc", gone), ("onerror", (type(gone), gone, None))):
            if kw.get(callback):
                kw[callback](os.unlink, str(Path(path) / "a"), arg)

    monkeypatch.setattr(removal.shutil, "rmtree", vanished)
    assert removal.remove_tree(target) is None and not target.exists()
