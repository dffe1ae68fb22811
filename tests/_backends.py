"""Which metadata store backend the tests run on, and a throwaway PostgreSQL server for them.

The default is SQLite under each test's own LOOPLINE_HOME. When ``LL_TEST_PG_URL`` names a
PostgreSQL server (``make pytest-postgres`` starts one and sets it), every test instead gets a
fresh, empty database of its own on that server: ``configure`` creates it and points
LOOPLINE_DB_URL at it. The variable does not start with LOOPLINE_ because the root conftest
clears those before each test.

Run as a script, this module starts and stops that throwaway server::

    python -m tests._backends pg-start DIR   # prints the URL; exit 3 (reason on stderr) if it can't
    python -m tests._backends pg-stop DIR

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the ``postgres`` user
(``runuser``). The server trusts local connections, listens on 127.0.0.1 only, on a free port,
with its data and socket in DIR, and with durability off (fsync, synchronous_commit): it holds
test data only.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

PG_URL_ENV = "LL_TEST_PG_URL"
_ADMIN: Any = None  # one autocommit psycopg connection to the server's maintenance database
_LAST: list[str] = []  # the database the previous test of this process used


def postgres_url() -> str | None:
    """The PostgreSQL server the tests should use, or None for SQLite."""
    return os.environ.get(PG_URL_ENV) or None


def _admin() -> Any:
    global _ADMIN
    if _ADMIN is None or _ADMIN.closed:
        import psycopg
        import sqlalchemy as sa

        url = sa.make_url(postgres_url() or "")
        _ADMIN = psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            dbname=url.database or "postgres",
            autocommit=True,
        )
    return _ADMIN


def fresh_postgres_database() -> str:
    """Create an empty database for one test (dropping the previous test's); return its URL.

    CREATE DATABASE copies the (tiny) template: ~10 ms here, and unlike emptying one shared
    database it cannot be held up by a connection a previous test left open.
    """
    import sqlalchemy as sa

    admin = _admin()
    while _LAST:
        # FORCE ends connections a test left open (e.g. a store it never closed).
        admin.execute(f'DROP DATABASE IF EXISTS "{_LAST.pop()}" WITH (FORCE)')
    fresh_postgres_database.counter += 1  # type: ignore[attr-defined]
    name = f"ll_test_{os.getpid()}_{fresh_postgres_database.counter}"  # type: ignore[attr-defined]
    admin.execute(f'CREATE DATABASE "{name}"')
    _LAST.append(name)
    return sa.make_url(postgres_url() or "").set(database=name).render_as_string(False)


fresh_postgres_database.counter = 0  # type: ignore[attr-defined]


def configure(monkeypatch: Any) -> None:
    """Point this test's LOOPLINE_DB_URL at a fresh PostgreSQL database when the run asks for one.

    Called by the root conftest's ``home`` fixture; on SQLite runs it does nothing.
    """
    if postgres_url():
        monkeypatch.setenv("LOOPLINE_DB_URL", fresh_postgres_database())


def metadata_url(tmp_path: Path) -> str:
    """A metadata store URL for a test that opens its own store: this run's backend."""
    return os.environ.get("LOOPLINE_DB_URL") or f"sqlite:///{tmp_path / 'meta.db'}"


# --- the throwaway server ---------------------------------------------------------------------


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why."""


def _bindir() -> Path:
    """Where Debian's (or any) PostgreSQL server programs are: newest major version first."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise Unavailable("PostgreSQL server programs (initdb, pg_ctl) are not installed")


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if not shutil.which("runuser"):
        raise Unavailable("running as root but `runuser` is missing to drop to user postgres")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no `postgres` user to run it") from None
    return ["runuser", "-u", "postgres", "--", *cmd]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise Unavailable(f"`{' '.join(cmd)}` failed: {' | '.join(tail)}")


def start_postgres(folder: Path, *, durable: bool = False) -> str:
    """Start a PostgreSQL server with its data in `folder`; returns a URL for user postgres."""
    bindir = _bindir()
    folder.mkdir(parents=True, exist_ok=True)
    data, sock = folder / "data", folder / "sock"
    sock.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(folder, 0o755)
    # The folder may sit in a root-only temp dir: postgres must be able to reach it.
    _run(
        _as_server_user(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-locale", "--no-sync"]
        )
    )  # fmt: skip
    port = _free_port()
    options = [
        f"-p {port}",
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={sock}",
        "-c max_connections=300",
        "-c shared_buffers=128MB",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    _run(
        _as_server_user(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
             "-w", "-t", "60", "-o", " ".join(options), "start"]
        )
    )  # fmt: skip
    (folder / "port").write_text(str(port))
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def stop_postgres(folder: Path) -> None:
    data = folder / "data"
    if not (data / "postmaster.pid").exists():
        return
    _run(_as_server_user([str(_bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("pg-start", "pg-stop"):
        print("usage: python -m tests._backends pg-start|pg-stop DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    try:
        if argv[0] == "pg-start":
            print(start_postgres(folder))
        else:
            stop_postgres(folder)
    except (Unavailable, OSError, subprocess.TimeoutExpired) as exc:
        print(f"PostgreSQL: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
