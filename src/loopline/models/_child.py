"""The child side of an opted-in pickle model, and the frame protocol both sides speak.

The child is started by `loopline.models._sandbox` with a credential-free environment. It
reads the model's verified bytes, unpickles them (the only place Loopline ever unpickles a
model) and then answers predict / predict_proba requests until its input closes.

Frames are `>II` (header length, body length), a JSON header, then the body. The parent
sends pandas frames pickled (its own data, to the untrusted side); the child answers with a
JSON header and numpy arrays as `.npy` written with `allow_pickle=False`, or as JSON for
object arrays, so the parent never unpickles anything the child sends.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import pickle
import struct
import sys
from typing import IO, Any

import numpy as np

_SIZES = struct.Struct(">II")
MAX_HEADER = 1 << 20


def write_msg(stream: IO[bytes], header: dict[str, Any], body: bytes = b"") -> None:
    text = json.dumps(header, default=str).encode("utf-8")
    stream.write(_SIZES.pack(len(text), len(body)) + text + body)
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_msg(stream: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    head, size = _SIZES.unpack(_read_exact(stream, _SIZES.size))
    if head > MAX_HEADER:
        raise EOFError(f"a frame header of {head} bytes is not a frame")
    header = json.loads(_read_exact(stream, head))
    if not isinstance(header, dict):
        raise EOFError("a frame header must be a JSON object")
    return header, _read_exact(stream, size)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def encode_array(values: Any) -> tuple[dict[str, Any], bytes]:
    array = np.asarray(values)
    if array.dtype.kind in "biufcUSmM":
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        return {"encoding": "npy"}, buf.getvalue()
    flat = array.ravel().tolist()
    body = json.dumps(flat, default=_plain).encode("utf-8")
    return {"encoding": "json", "shape": list(array.shape)}, body


def decode_array(header: dict[str, Any], body: bytes) -> np.ndarray[Any, Any]:
    if header.get("encoding") == "npy":
        return np.asarray(np.load(io.BytesIO(body), allow_pickle=False))
    flat = json.loads(body)
    shape = header.get("shape")
    if not isinstance(flat, list) or not isinstance(shape, list):
        raise ValueError("the model's child process sent a malformed result")
    out = np.empty(len(flat), dtype=object)
    for i, value in enumerate(flat):
        out[i] = value
    return out.reshape([int(n) for n in shape])


def error_header(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "type": type(exc).__name__, "message": str(exc)[:4000]}


def raise_remote(header: dict[str, Any], model: str) -> None:
    """Re-raise the child's exception: builtin types keep their type, others are named."""
    name, message = str(header.get("type", "Error")), str(header.get("message", ""))
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            error = cls(message)
        except TypeError:  # a builtin with a richer constructor (UnicodeDecodeError…)
            error = None
        if error is not None:
            raise error
    raise RuntimeError(f"{name}: {message} (in model {model}'s child process)")


def _serve(inp: IO[bytes], out: IO[bytes]) -> None:
    from loopline.models import _flavors

    _, data = read_msg(inp)
    try:
        import joblib

        raw = joblib.load(io.BytesIO(data))
        kind = _flavors.proba_kind(raw)
        classes = getattr(raw, "classes_", None)
        listed = None if classes is None else json.loads(json.dumps(list(classes), default=_plain))
        write_msg(out, {"ok": True, "proba": kind is not None, "classes": listed})
    except Exception as exc:
        write_msg(out, error_header(exc))
        return
    while True:
        try:
            header, body = read_msg(inp)
        except EOFError:
            return
        try:
            frame = pickle.loads(body)  # the parent's own frame: trusted data, this direction
            if header.get("op") == "predict_proba" and kind is not None:
                result = _flavors.predict_proba(raw, kind, frame)
            else:
                result = _flavors.predict(raw, frame)
            head, payload = encode_array(result)
            write_msg(out, {"ok": True, **head}, payload)
        except Exception as exc:  # the model's failure, reported to the parent as data
            write_msg(out, error_header(exc))


def main() -> None:
    """Entry point of the child: the protocol keeps private copies of stdin and stdout, and
    whatever the model prints goes to stderr instead of corrupting the frames."""
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    with contextlib.suppress(EOFError, BrokenPipeError):
        _serve(inp, out)


__all__ = ["decode_array", "encode_array", "main", "raise_remote", "read_msg", "write_msg"]
