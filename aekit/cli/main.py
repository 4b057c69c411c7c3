"""``aekit``: train, evaluate and use autoencoders from the command line.

This module is the parser and the dispatch: each command's options and handler live in a
``cmd_*`` module (``register(subparsers)`` adds its subcommands), argument types in ``types`` and
the options several commands share in ``options``.

Exit codes: 0 success; 2 bad usage or bad input; 1 failure at run time. Errors are
one line on stderr (the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from ..families import CLI_MODULES
from . import signals, streams

# One module per family; each has TRAIN_OPTIONS, train_params(family, args), register(subparsers).
FAMILY_MODULES = CLI_MODULES  # the registered families' (aekit.families)
# Commands that belong to no one family, before and after the families' own; each has register(subparsers).
GENERAL_MODULES = ("cmd_run", "cmd_datasets")
LATE_MODULES = ("cmd_export", "cmd_search", "cmd_serve")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2, and options typed in full (``--over`` is no
    ``--overwrite``: an option added later must not change what a saved command line means, and an
    abbreviation reached torchrun's parser unstripped under ``--nproc``). An option given twice
    takes its last value, as in argparse: a script's ``$BASE --epochs 3`` overrides its base."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # argparse prints usage + message over several lines by default
        self.exit(
            2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n"
        )

    def _print_message(self, message: str, file=None) -> None:
        """argparse's, save that a help or version stdout cannot take is said, exit 1 (argparse
        dropped the OSError: exit 0, nothing written), and so is a stdout closed at start-up (probe
        65 docs #3: exit 0, nothing said); a reader gone is the pipe's silence."""
        if not message or file is None or file is not sys.stdout:
            return super()._print_message(message, file)
        try:
            streams.require_stdout("the text asked for (--help, --version)")
            file.write(message)
            file.flush()
        except BrokenPipeError:
            sys.exit(_reader_gone())
        except OSError as exc:
            from ..errors import one_line

            self.exit(1, f"aekit: error: {one_line(exc)}\n")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if not hasattr(namespace, _COMMAND):  # the innermost command's parser returns first
            setattr(namespace, _COMMAND, self)
        return namespace, extras

    def parse_args(self, args=None, namespace=None):
        """An unrecognized argument is said by the command it was given to, whose help lists its
        options (``aekit --help`` lists only the commands)."""
        parsed, extras = self.parse_known_args(args, namespace)
        for flag in [e for e in extras if e in _GLOBAL_FLAGS]:  # typed after the command: as before
            setattr(parsed, _GLOBAL_FLAGS[flag], True)
            extras.remove(flag)
        if extras:
            getattr(parsed, _COMMAND).error(f"unrecognized arguments: {' '.join(extras)}")
        delattr(parsed, _COMMAND)
        return parsed


_COMMAND = "_command_parser"  # set on the namespace while parsing, then taken off
# aekit's own flags (before the command), taken after it too: `aekit encode ... -v` said it was
# unrecognized and pointed to a help that does not list it
_GLOBAL_FLAGS = {"-v": "verbose", "--verbose": "verbose", "--debug": "debug"}


def _module(name: str):
    return importlib.import_module(f"{__package__}.{name}")


def build_parser() -> Parser:
    parser = Parser(
        prog="aekit",
        description="Autoencoders for real work: train, encode, denoise, "
        "detect anomalies and generate, on built-in data or your own.",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    families = [_module(name) for name in FAMILY_MODULES]
    _module("cmd_train").register(sub, families)
    for name in GENERAL_MODULES:
        _module(name).register(sub)
    for mod in families:
        mod.register(sub)
    for name in LATE_MODULES:
        _module(name).register(sub)
    return parser


# ---- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    _closed_streams_discard()
    with streams.lines_may_fail():  # a failing log or stdout: aekit.cli.streams
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    unreadable = _before_torch_loads()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if getattr(args, "func", None) is None:  # `aekit`, `aekit train`: which command? (exit 2)
        with contextlib.redirect_stdout(sys.stderr), contextlib.suppress(SystemExit):
            parser.print_help() if args.command is None else parser.parse_args(
                [*(argv or sys.argv[1:]), "--help"]
            )
        return 2
    before = list(logging.getLogger().handlers)
    logging.basicConfig(  # -v: one process's log, not each epoch once per process of --nproc
        level=logging.INFO if args.verbose and _logs(args) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not (args.verbose or args.debug):  # libraries' log lines (matplotlib's on a read-only
        for handler in logging.getLogger().handlers:  # HOME) would break the one-line contract
            if handler not in before:  # the handler made here, not a host's (a test's, an app's)
                handler.addFilter(_aekit_or_errors)
    _say_notes(args)
    if unreadable is not None and not getattr(args, "quiet", False):  # serve's: errors only
        from .._notes import note

        note(f"OMP_NUM_THREADS={unreadable!r} is not a thread count (a whole number >= 1); ignored")
    if not args.debug:  # library warnings would break the one-line error contract
        import warnings

        warnings.simplefilter("ignore")
    from ..training import distributed

    with signals.handled():
        code = _run(args)
        stopped = signals.received()
    if _alone() or not _launched(args):
        return code
    if code and not _reports() and stopped is None:
        # Under torchrun, let rank 0 (which reports the cause) exit first, so that torchrun
        # passes on its exit code rather than that of a process that failed because rank 0 left.
        import time

        time.sleep(PEER_GRACE_SECONDS)
    distributed.exit_process(code)  # a process of a distributed run: see why there


PEER_GRACE_SECONDS = 5.0


def _aekit_or_errors(record: logging.LogRecord) -> bool:
    """Log lines shown without ``-v``: aekit's own, and other libraries' errors."""
    return record.name.startswith("aekit") or record.levelno >= logging.ERROR


def _closed_streams_discard() -> None:
    """A closed stdout or stderr (``2>&-``, some daemons) is None in Python: every note, progress
    or error line then raised AttributeError, and a working command exited 1 saying nothing.
    Lines for a closed stream are dropped instead; a command whose result is stdout says it is
    closed (aekit.cli.streams), another's result and exit code stand. On
    an open one, a character its encoding lacks is escaped, not a failure after the work is done."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 (for the process's life)
            setattr(getattr(sys, name), streams.CLOSED, True)  # a result for it: refused
        elif hasattr(getattr(sys, name), "reconfigure"):  # a path the encoding cannot spell
            getattr(sys, name).reconfigure(errors="backslashreplace")  # (PYTHONIOENCODING=ascii)


def _say_notes(args: argparse.Namespace) -> None:
    """Notes on how the data were read (aekit._notes) as ``aekit: note: ...`` lines on stderr."""
    from .._notes import LOGGER

    notes = logging.getLogger(LOGGER)
    for handler in [h for h in notes.handlers if isinstance(h, _Stderr)]:
        notes.removeHandler(handler)  # an earlier command's in this process, with what it said
    notes.addHandler(_Stderr(args))
    notes.propagate = False


class _Stderr(logging.Handler):
    """Each record as one ``aekit: note:`` line on the stderr of the moment (tests replace it); under
    torchrun, from rank 0 only (every process reads the same data and would say the same); a note
    said already in this command once (a folder's files are listed by its size check, its
    checksum and its reading). The parameters it names are said as the options typed."""

    def __init__(self, args: argparse.Namespace):
        super().__init__()
        self.said: set[str] = set()
        self.args = args

    def emit(self, record: logging.LogRecord) -> None:
        message = typed(record.getMessage(), getattr(record, "params", ()), self.args)
        if _logs(self.args) and message not in self.said:
            self.said.add(message)
            sys.stderr.write(f"aekit: note: {message}\n")


def _before_torch_loads() -> str | None:
    """Set the OpenMP runtime's environment: its threads spin only briefly when they wait
    (aekit.training.threads); an ``OMP_NUM_THREADS`` it cannot read is taken out and returned
    (aekit ignores it; libgomp would print two lines of its own on every command).

    The OpenMP runtime reads its environment once, when torch is imported, so this comes before
    anything imports torch; the commands import it lazily, in their handlers.
    """
    from ..training.threads import drop_unreadable_thread_count, use_short_spin

    use_short_spin()
    return drop_unreadable_thread_count()


def _alone() -> bool:
    """Whether this is the only process (also when the launch environment is unreadable)."""
    from ..errors import UsageError
    from ..training.distributed import world_size

    try:
        return world_size() == 1
    except UsageError:  # a malformed WORLD_SIZE: the command failed on it and said so
        return True


def _logs(args: argparse.Namespace | None) -> bool:
    """Whether ``-v`` logs here, and notes and errors are said: in one process of a training's
    (rank 0), in any other command (a launch environment left in the shell is no process group of
    theirs)."""
    return not _launched(args) or _reports()


def _launched(args: argparse.Namespace | None) -> bool:
    """Whether the command is one a launcher starts as a process of a group (``train``, and a
    command not known here); any other runs alone, whatever WORLD_SIZE or RANK a shell or job
    script left behind."""
    return getattr(args, "command", "train") == "train"


def _reports() -> bool:
    """Whether this process reports errors: under torchrun only rank 0 does."""
    from ..errors import UsageError
    from ..training.distributed import check_environment, is_main_process

    try:
        check_environment()
        return is_main_process()
    except UsageError:  # a malformed or incomplete launch environment: every process says so
        return True


def _run(args: argparse.Namespace) -> int:
    """Run the command; turn every failure into one stderr line and an exit code."""
    from ..errors import AekitError
    from .options import refuse_unused_read_options

    try:
        _refuse_a_gone_working_folder(args)
        _refuse_empty_paths(args)
        refuse_unused_read_options(args)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a result left in the buffer fails here, said, not at the exit
        return code
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (aekit.cli.signals)
        return _interrupted(args, getattr(exc, "signum", signal.SIGINT))
    except Exception as exc:
        out_of_memory = _out_of_memory(exc) and not isinstance(exc, AekitError)
        if signals.received() is not None and not out_of_memory:  # caused by the stop (a peer left)
            return _interrupted(args, signals.received())
        if args.debug:
            raise
        return _report(_as_typed(exc, args), args)


def _as_typed(exc: Exception, args: argparse.Namespace) -> Exception:
    """A parameter's error (``validation_fraction must be ...``) naming the option the user typed
    (``--validation-fraction must be ...``), when the command took that option."""
    names = getattr(exc, "param", None)
    if names is not None and exc.args:
        exc.args = (typed(str(exc.args[0]), names, args), *exc.args[1:])
    given = getattr(args, "input", None)  # the file a use command read: the estimator's "X"
    if isinstance(given, str) and exc.args and str(exc.args[0]).startswith(("X ", "X: ")):
        exc.args = (given + str(exc.args[0])[1:], *exc.args[1:])
    return exc


# A parameter in Python's form, ``name=value``: a quoted text, a tuple of widths, or a word.
_VALUE = r"""=(?:'([^']*)'|\(([^)]*)\)|([^\s;:,)]+))"""


def typed(message: str, names: str | tuple[str, ...], args: argparse.Namespace) -> str:
    """``message`` with each of ``names`` said as the option typed, where the command took it:
    ``members=3`` as ``--members 3``, ``hidden=(64, 32)`` as ``--hidden 64,32``, else the name's
    first mention as ``--name``."""
    import re

    from .options import option_name

    for name in (names,) if isinstance(names, str) else names:
        # scikit-learn's count n_neighbors is typed --neighbors
        dest = name if hasattr(args, name) else name.removeprefix("n_")
        if not hasattr(args, dest):  # not an option of this command: the Python form stays
            continue
        # a word that starts the message or follows a space or "(": not inside a quoted value or a
        # file name ('threshold=3', data/members=3.csv)
        option, word = option_name(dest), rf"(?<![^\s(]){re.escape(name)}"
        message, forms = re.subn(word + _VALUE, lambda m, o=option: _as_option(o, m), message)
        if not forms and getattr(args, dest, None) is not None:  # the name alone, of an option
            # typed: its first mention as a word (a later may be an argument)
            message = re.sub(word + r"(?!\w)", lambda _, o=option: o, message, count=1)
    return message


def _as_option(option: str, match) -> str:
    text, widths, word = match.groups()
    if widths is not None:  # (64, 32) -> 64,32; (8,) -> 8
        return f"{option} {','.join(w.strip() for w in widths.split(',') if w.strip())}"
    return f"{option} {text if text is not None else word}"


# The paths a command reads, by dest, as typed (positional ones by their metavar)
_READ_PATHS = {
    **{d: "--" + d.replace("_", "-") for d in ("data", "input", "query", "masks")},
    **{"data_dir": "--data-dir", "network": "--network", "run": "RUN", "runs": "RUN"},
    "index": "INDEX",
}


def _refuse_empty_paths(args: argparse.Namespace) -> None:
    """One line for a path to read given empty (``--data "$DATA"`` with the variable unset), as an
    empty ``--output`` is refused: read as the current folder, it trained on whatever images were
    there, and ``--data ""`` was taken for no ``--data`` (a built-in dataset's refusals)."""
    from ..errors import UsageError

    for dest, option in _READ_PATHS.items():
        value = getattr(args, dest, None)
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, str) and not path.strip():
                raise UsageError(f"{option} is empty; give a file or folder path")


def _refuse_a_gone_working_folder(args: argparse.Namespace) -> None:
    """One line when the working folder was removed: loading torch then ended the process with
    "Intel oneMKL FATAL ERROR: Cannot load libtorch_cpu.so", exit 2, as if torch were broken. The
    commands of the built-in datasets load no torch and go on, as does a process that has torch
    loaded already (a host's)."""
    if args.command == "datasets" or "torch" in sys.modules:
        return
    try:
        os.getcwd()
    except FileNotFoundError:
        from ..errors import UsageError

        raise UsageError(
            "the current folder no longer exists (was it removed?); cd to an existing folder"
        ) from None


def _report(exc: Exception, args: argparse.Namespace | None = None) -> int:
    """Write the one stderr line of a failure (one process says it under torchrun); its exit code."""
    from ..errors import AekitError, one_line
    from ..training.distributed import LaunchError

    if isinstance(exc, BrokenPipeError) and exc.filename is None:
        return _reader_gone()
    if isinstance(exc, AekitError):
        line, code = f"aekit: error: {one_line(exc)}", exc.exit_code
    elif (load := _load_failure(exc)) is not None:  # ulimit -v: before "internal error", "sizes"
        line, code = f"aekit: error: {load}", 1
    elif (missing := _missing_dependency(exc)) is not None:  # a --no-deps install
        line, code = f"aekit: error: {missing}", 1
    elif isinstance(exc, OSError):  # disk full, permission denied, ...
        line, code = f"aekit: error: {_os_error(exc)}", 1
    elif _out_of_memory(exc):
        line = "aekit: error: out of memory; use smaller sizes (batch, layers, images, samples)"
        code = 1
    else:  # a bug: still one line, and the way to see more
        line = (
            f"aekit: internal error: {type(exc).__name__}: {one_line(exc)} "
            f"(rerun with --debug for the traceback)"
        )
        code = 1
    # Under torchrun every process fails alike and one of them says so; a process whose peer failed
    # sees a RuntimeError from the collective (a bug of its own is said by every process).
    bug = not isinstance(exc, (AekitError, OSError, MemoryError, RuntimeError))
    if _logs(args) or bug or isinstance(exc, LaunchError):  # (there may be no rank 0 to say it)
        sys.stderr.write(line + "\n")
    return code


# aekit's own dependencies (pyproject.toml's; scipy: scikit-learn's), by the names they import as
_DEPENDENCIES = {
    "torch": "torch", "numpy": "numpy", "sklearn": "scikit-learn", "scipy": "scipy",
    "safetensors": "safetensors", "matplotlib": "matplotlib", "PIL": "pillow", "tqdm": "tqdm",
}  # fmt: skip


def _missing_dependency(exc: BaseException) -> str | None:
    """One of aekit's own dependencies not installed (``pip install --no-deps``, or removed after):
    said as what to install, not as an aekit bug; None for any other error."""
    import importlib.util

    name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    top = (name or "").split(".")[0]
    package = _DEPENDENCIES.get(top)
    if package is None:
        return None
    if top != name and importlib.util.find_spec(top) is not None:  # torch._C: a broken install
        return (
            f"aekit's dependency {package} is installed but incomplete ({name} is missing): "
            f"reinstall it: pip install --force-reinstall {package}"
        )
    return (
        f"aekit needs {package}, which is not installed here: pip install {package} (or "
        f"install aekit with its dependencies: pip install aekit)"
    )


def _out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or torch's allocator failing: a RuntimeError from its C++ CPU allocator (a
    tensor past the memory, or past the sizes it can count), CUDA's OutOfMemoryError."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("can't allocate memory", "out of memory", "size calculation overflowed")
    )


LOAD_ROOM = 4 << 30  # address space beyond what loading torch maps (about 1.2 GB): not the cause


def _load_failure(exc: BaseException) -> str | None:
    """Torch or scipy failing to load under an address-space limit (``ulimit -v``): a shared
    object's segment not mapped, or a MemoryError while importing. Said as the limit, not as an
    aekit bug, nor as sizes to make smaller (nothing the user sizes helps); None otherwise."""
    from .._limits import soft_limit

    limit = soft_limit("RLIMIT_AS")
    # the same words come from a library on a noexec mount ("... Operation not permitted") or out
    # of static TLS: only a limit below what a process of torch's maps is said to be the cause
    mapping = isinstance(exc, (ImportError, OSError)) and any(
        s in str(exc) for s in ("failed to map", "cannot map", "cannot allocate memory")
    )
    mapping = mapping and not any(s in str(exc) for s in ("not permitted", "static TLS"))
    if limit is None or limit >= LOAD_ROOM or not (mapping or _while_importing(exc)):
        return None
    return (
        f"the address-space limit (ulimit -v {limit // 1024}) is too low to load the libraries "
        "aekit uses (torch needs about 1.2 GB of address space); raise it"
    )


def _while_importing(exc: BaseException) -> bool:
    """A MemoryError raised while a module was being imported (torch importing sympy)."""
    tb = exc.__traceback__ if isinstance(exc, MemoryError) else None
    while tb is not None:
        code = tb.tb_frame.f_code  # a module's top level runs below the command only when imported
        if code.co_name == "<module>" or code.co_filename.startswith("<frozen importlib"):
            return True
        tb = tb.tb_next
    return False


def _reader_gone() -> int:
    """The reader of stdout went away (``| head``, a closed pipe): nothing to say to anyone, as
    ``cat`` and ``ls`` say nothing, and the exit code of a write to a closed pipe (128 + SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no real stdout (a test's)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the exit's flush of stdout: no second error
    return 128 + 13


def _interrupted(args: argparse.Namespace, signum: int) -> int:
    """One line (from one process), and 128 + the signal's number as the exit code."""
    if signum == signal.SIGINT and _out_of_processes():
        return 1  # said: a library's own SIGINT, not Ctrl-C
    if not _launched(args) or signals.reports_interrupts():  # a leftover RANK: not this one's
        hint = _resume_hint(args)
        what = "CPU time limit reached" if signum == signals.CPU_LIMIT else "interrupted"
        sys.stderr.write(f"aekit: {what}{hint}\n")
    return 128 + int(signum)


def _resume_hint(args: argparse.Namespace) -> str:
    """What a stopped ``train`` left: epochs that ``--resume`` continues, or none (then ``--resume``
    would only start afresh, so the line says to run it again)."""
    if getattr(args, "command", None) != "train":
        return ""
    from .cmd_train import run_folder

    out = run_folder(args)
    if not out:
        return ""
    try:
        from ..recipes.folder import RunFolder

        done = RunFolder(out).interrupted_epochs()
    except Exception:  # an --out aekit refuses (said before training): no run to speak of
        return ""
    if done:
        return "; resume with --resume"
    return "; no epoch had finished, so there is nothing to resume: run the command again"


def _out_of_processes() -> bool:
    """Whether ``ulimit -u`` is used up, and so the SIGINT was OpenBLAS's own: it raises one when it
    cannot start its threads (then "interrupted; resume with --resume" was the line). Said here."""
    from ..training.threads import process_room

    room = process_room()
    if room is None or room[1] > 0:
        return False
    sys.stderr.write(
        f"aekit: error: the process limit (ulimit -u {room[0]}) is used up: a library could not "
        "start its threads; raise ulimit -u, or end some of this user's processes\n"
    )
    return True


def _os_error(exc: OSError) -> str:
    """An OSError as one line that names the path (a full disk names what could not be written)."""
    from .._io import FREE_SPACE, storage_reason
    from ..errors import one_line

    found = storage_reason(exc, getattr(exc, "filename", None))
    if found is None:
        reason = one_line(exc.strerror or exc).lower()
        return f"{reason}: {exc.filename}" if getattr(exc, "filename", None) else reason
    reason, fix = found
    if exc.errno is None:  # numpy's short write, without an errno (nor a file name)
        reason += " (a write was cut short)"
    fix = "" if fix == FREE_SPACE else f"; {fix}"  # a full disk's fix goes without saying
    return (
        f"{reason} writing {exc.filename}{fix}" if getattr(exc, "filename", None) else reason + fix
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
