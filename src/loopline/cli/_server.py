"""`loopline server [--local]` and `loopline tokens create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from loopline.cli._output import Col, console, print_json, table, when
from loopline.identity import ROLES

tokens = typer.Typer(help="API tokens for the team server.", no_args_is_help=True)


def server(
    host: Annotated[
        str, typer.Option(help="Interface to bind (with --local: loopback only)")
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Port to listen on \\[default: 8000; with --local 8001]"
        ),
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="The web UI alone over the local store, no login, on this machine only "
            "(it was `loopline ui`)",
        ),
    ] = False,
) -> None:
    """Run the team server: the REST API under /api/v1 (OpenAPI at /openapi.json) and the
    web UI; with --local, the UI alone over the local store, no login."""
    if local:
        from loopline.cli._ui import LOCAL_PORT, run_local_ui

        run_local_ui(host, LOCAL_PORT if port is None else port)
        return
    from loopline.server import run_server

    port = 8000 if port is None else port

    console.print(f"Loopline server on http://{host}:{port}  (API /api/v1, docs /docs)")
    run_server(host, port)


@tokens.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="Who the token is for")],
    role: Annotated[str, typer.Option(help=" | ".join(ROLES))],
    team: Annotated[str | None, typer.Option(help="The user's team")] = None,
    days: Annotated[float, typer.Option(help="Days until it expires (0: never)")] = 90.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a token; the secret is printed once and stored only as a hash."""
    from loopline.ops._tokens import create_token

    secret, record = create_token(user, role, team=team, expires_in_days=days or None)
    if as_json:
        print_json({"token": secret, **record.__dict__})
        return
    console.print(f"token for {record.user} ({record.role}), id {record.id}:")
    print(secret)
    console.print("[dim]shown once; set it as LOOPLINE_TOKEN[/dim]")


@tokens.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tokens with their state (never their secrets)."""
    from loopline.cli._context import store

    rows = store(reap=False).list_tokens(user)  # outside a project: creates nothing
    if as_json:
        print_json([r.__dict__ for r in rows])
        return

    def state(expires: float | None, revoked: float | None) -> str:
        import time

        if revoked is not None:
            return "revoked"
        return "expired" if expires is not None and expires < time.time() else "active"

    table(
        None,
        [
            Col("id", key=True, justify="right"),
            Col("prefix", key=True),
            Col("user", key=True),
            Col("role", key=True),
            Col("team", drop=2),
            Col("state", key=True),
            Col("expires", drop=1),
        ],
        [
            [
                r.id,
                r.prefix,
                r.user,
                r.role,
                r.team or "",
                state(r.expires_at, r.revoked_at),
                when(r.expires_at) if r.expires_at else "never",
            ]
            for r in rows
        ],
        wide=wide,
    )


@tokens.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="Token id")]) -> None:
    """Revoke a token at once; requests with it get 401 from then on."""
    from loopline.ops._tokens import revoke_token

    record = revoke_token(token_id)
    console.print(f"revoked token {record.id} ({record.prefix}…) of {record.user}")
