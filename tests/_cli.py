"""`run_cli`: run a `loopline` command as a user would, and get its exit code and output.

Most CLI tests only need a command's exit code and output, so the command runs in this
process, through `loopline.cli.main` itself (its one-line error handling, exit codes), with
what a new process would give it: its own environment, working folder, context variables,
open stores (closed at the end, as its exit hook does), the warnings a fresh interpreter
shows, printed on its stderr, and an uncaught exception's traceback. That saves starting
Python and re-importing Loopline per call: ~80 s of the core tier's CPU time.

A real subprocess is kept where the process is the point: the test modules in
`REAL_PROCESS` (start-up imports and exit hooks, killed processes, code that must not run
in the caller's process) and the commands in `LONG_RUNNING`, which hold their process.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import subprocess
import sys
import warnings
from unittest import mock

REAL_PROCESS = frozenset(
    {
        "tests.cli.test_startup",  # what a new process imports; the exit hooks
        "tests.tracking.test_processes",  # processes killed and reaped
        "tests.security.test_pickle_scenario",  # the payload must not run in the approver's process
        "tests.serving.test_serve_messages",
        "tests.serving.test_startup_and_openapi",
    }
)
# A command's first word, or first two (the old spellings too: cli/_deprecated.py).
LONG_RUNNING = frozenset(
    {"server", "models serve", "pipelines run", "pipelines schedule"}
    | {"serve", "ui", "scheduler", "run"}
)
COLUMNS = "200"  # wide enough that no test's line wraps

# What `python` starts with (no -W, no PYTHONWARNINGS): the filters, last applied first.
_FRESH_FILTERS = (
    ("ignore", ResourceWarning),
    ("ignore", ImportWarning),
    ("ignore", PendingDeprecationWarning),
    ("ignore", DeprecationWarning),
)


def _show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: object = None, line: str | None = None) -> None:  # fmt: skip
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `loopline *args` (environment: this one plus `env`); in this process unless the
    calling test module or the command needs a real one (see the module docstring)."""
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller in REAL_PROCESS or {args[:1], args[:2]} & {(*n.split(),) for n in LONG_RUNNING}:
        return subprocess.run(
            [sys.executable, "-m", "loopline", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": COLUMNS, **(env or {})},
            timeout=120,
            check=False,
        )
    return contextvars.Context().run(_in_process, args, env or {})


def _in_process(args: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    import loopline.cli
    import loopline.store
    from loopline.cli import _output, _startup

    saved_env, saved_cwd = os.environ.copy(), os.getcwd()
    saved_argv, hook = sys.argv, sys.excepthook
    saved_stores = dict(loopline.store._OPEN)
    loopline.store._OPEN.clear()  # the command opens its own, as a new process would
    # rich's own override slot (None: follow the terminal), as tests/cli/test_terminal_width.py
    widths = _output.console._width, _output.err_console._width
    code = 0
    try:
        with contextlib.ExitStack() as stack:
            out, err, _ = stack.enter_context(
                CliRunner().isolation(env={"COLUMNS": COLUMNS, **env})
            )
            # `begin` turns garbage collection off and freezes the process at exit: not this
            # one's. The program name is the console script's, not pytest's.
            stack.enter_context(mock.patch.object(_startup, "begin", lambda: None))
            app = functools.partial(loopline.cli.app, prog_name="loopline")
            stack.enter_context(mock.patch.object(loopline.cli, "app", app))
            stack.enter_context(warnings.catch_warnings())
            warnings.resetwarnings()
            for action, category in _FRESH_FILTERS:
                warnings.simplefilter(action, category)  # type: ignore[arg-type]
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            warnings.showwarning = _show  # on the command's stderr, not into pytest's record
            # The consoles were made at import, sized to the terminal then.
            _output.console.width = _output.err_console.width = int(COLUMNS)
            sys.argv = ["loopline", *args]
            try:
                loopline.cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
                if isinstance(exc.code, str):
                    sys.stderr.write(exc.code + "\n")
            except BaseException as exc:  # the interpreter's report: Typer's hook, exit 1
                sys.excepthook(type(exc), exc, exc.__traceback__)
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    finally:
        loopline.store.reset_store_cache()  # what the command's exit hook does
        loopline.store._OPEN.update(saved_stores)
        _output.console._width, _output.err_console._width = widths
        sys.argv, sys.excepthook = saved_argv, hook
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["loopline", *args], code, stdout, stderr)
