"""Opted-in pickle models run in a child process without credentials.

A pickle runs code of its author's choosing when it is loaded, and a custom model's
`predict` is its author's code too. When both opt-ins are given (`unsafe_pickle=True` at
log time, `allow_unsafe_pickle=True` or `LOOPLINE_ALLOW_UNSAFE_PICKLE=1` at load time),
`start` launches `python -I` with an environment stripped of Loopline settings and tokens,
cloud and database credentials (`LOOPLINE_*`, `AWS_*`, `PG*`, anything named like a token,
secret, password or key), a fresh empty HOME and working folder, and hands it the verified
bytes. The parent keeps a `ChildModel` whose `predict` / `predict_proba` send frames to the
child and decode the answers as `.npy` (no pickle) or JSON: the parent never unpickles what
the child sends. This is a credential boundary, not an operating-system sandbox: the child
runs as the same user and can read the files that user can.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from loopline.errors import LooplineError
from loopline.models._child import decode_array, raise_remote, read_msg, write_msg

ALLOW_ENV = "LOOPLINE_ALLOW_UNSAFE_PICKLE"
_SECRET = re.compile(
    r"^(LOOPLINE_|AWS_|PG|AZURE_|GOOGLE_|GCP_|GCE_|GH_|GITHUB_|HF_|KUBE|DOCKER_|VAULT_)"
    r"|TOKEN|SECRET|PASSW|CREDENTIAL|(^|_)KEY(_|$)|APIKEY|AUTH|COOKIE|SESSION|^DATABASE_URL$"
    r"|^(SSH_AUTH_SOCK|KRB5CCNAME|NETRC|PYTHON\w*)$",
    re.IGNORECASE,
)
_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from loopline.models._child import main; main()"
)


def unsafe_pickle_allowed(allow: bool | None) -> bool:
    """The load-time opt-in: the argument if given, else `LOOPLINE_ALLOW_UNSAFE_PICKLE=1`."""
    if allow is not None:
        return allow
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def child_environment(home: str) -> dict[str, str]:
    """The parent's environment without anything that looks like a credential or a store."""
    env = {k: v for k, v in os.environ.items() if not _SECRET.search(k)}
    env.update({"HOME": home, "USERPROFILE": home, "TMPDIR": home})
    return env


def _stop(proc: subprocess.Popen[bytes], home: str) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(home, ignore_errors=True)


class ChildModel:
    """Stands in for the model in the parent: every call is a round trip to the child."""

    def __init__(self, data: bytes, model: str) -> None:
        self._data, self._model = data, model
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self.pid = 0
        hello = self._spawn()
        if hello.get("proba"):  # only classifiers have predict_proba, as in sklearn
            self.predict_proba: Callable[[Any], np.ndarray[Any, Any]] = self._predict_proba
        classes = hello.get("classes")
        if isinstance(classes, list):
            self.classes_ = np.asarray(classes, dtype=object)

    def _spawn(self) -> dict[str, Any]:
        home = tempfile.mkdtemp(prefix="loopline-model-child-")
        paths = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, json.dumps(paths)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(home),
            cwd=home,
        )
        self._proc, self.pid = proc, proc.pid
        self._finalizer = weakref.finalize(self, _stop, proc, home)
        try:
            write_msg(self._pipe(proc.stdin), {"op": "load", "model": self._model}, self._data)
            header, _ = read_msg(self._pipe(proc.stdout))
        except (EOFError, OSError):
            self._finalizer()
            raise self._died(proc) from None
        if not header.get("ok"):
            self._finalizer()
            raise LooplineError(
                f"model {self._model} cannot be loaded in its child process: "
                f"{header.get('type')}: {header.get('message')}",
                hint="install the packages the model was saved with (see its manifest), and "
                "define custom model classes in an importable module, not __main__",
            )
        return header

    @staticmethod
    def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
        assert stream is not None, "the child is started with pipes"
        return stream

    def _died(self, proc: subprocess.Popen[bytes]) -> LooplineError:
        code = proc.poll()
        return LooplineError(
            f"the child process running model {self._model} exited"
            + (f" with code {code}" if code is not None else ""),
            hint="see the model's output on stderr; the next call starts a new child",
        )

    def _call(self, op: str, frame: Any) -> np.ndarray[Any, Any]:
        body = pickle.dumps(frame, protocol=5)
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                if self._finalizer is not None:
                    self._finalizer()
                self._spawn()
                proc = self._proc
            assert proc is not None
            try:
                write_msg(self._pipe(proc.stdin), {"op": op}, body)
                header, payload = read_msg(self._pipe(proc.stdout))
            except (EOFError, OSError):
                self._proc = None
                raise self._died(proc) from None
        if not header.get("ok"):
            raise_remote(header, self._model)
        return decode_array(header, payload)

    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        return self._call("predict", X)

    def _predict_proba(self, X: Any) -> np.ndarray[Any, Any]:
        return self._call("predict_proba", X)

    def close(self) -> None:
        """Stop the child now (it also stops when this object is garbage-collected)."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._proc = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Shipped to a worker (a batch engine), the model starts its own child there.
        return (start, (self._data, self._model))


def start(data: bytes, model: str) -> ChildModel:
    """A proxy for the pickled model in `data` (already verified), running in a child."""
    return ChildModel(data, model)


__all__ = ["ALLOW_ENV", "ChildModel", "child_environment", "start"]
