"""Subcommands imported only when invoked, so `loopline --help` never loads a model library.

Typer has no lazy-loading hook, so this is Click's documented pattern ("lazily loading
subcommands": a group whose `get_command` imports the command on demand) on Typer's group
class. While the group prints its own help it lists placeholders carrying the help line
given at registration, so `loopline --help` imports no subcommand module either;
`loopline models --help` imports `loopline.cli._models` and nothing it only uses inside
commands. tests/cli/test_startup.py checks each placeholder's line against the real one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Lazy:
    """A subcommand: `target` is "module:attribute" naming a Typer app or a command function;
    `help` is its one-line description, shown by the parent's --help without importing it."""

    target: str
    help: str

    def load(self, name: str) -> Any:
        """The Click command, importing its module: mounted on a throwaway parent exactly as
        `add_typer` / `command` would mount it on the real one (no completion options, a
        one-command app still a group)."""
        module, _, attr = self.target.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        parent = typer.Typer(add_completion=False)
        parent.callback()(_no_options)
        if isinstance(obj, typer.Typer):
            parent.add_typer(obj, name=name)
        else:
            parent.command(name)(obj)
        group = typer.main.get_command(parent)
        assert isinstance(group, TyperGroup)
        return group.commands[name]


def _no_options() -> None:
    pass


class LazyGroup(TyperGroup):
    """A Typer group whose `subcommands` (name → Lazy, in display order) load on first use.

    Subclass it with `subcommands` set and pass the subclass as `typer.Typer(cls=...)`.
    """

    subcommands: ClassVar[dict[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        eager = [n for n in self.commands if n not in self.subcommands]
        return [*self.subcommands, *eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        spec = self.subcommands.get(cmd_name)
        if spec is None:
            return None
        if self._listing:  # only the name and help line are needed: do not import
            return self._placeholder(cmd_name, spec)
        command = spec.load(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in self.subcommands:
            # An unknown name: Typer's "Did you mean ...?" looks in `commands`, so give it
            # placeholders for the unloaded names (the command fails right after).
            for name, spec in self.subcommands.items():
                self.commands.setdefault(name, self._placeholder(name, spec))
        return super().resolve_command(ctx, args)

    @staticmethod
    def _placeholder(name: str, spec: Lazy) -> TyperCommand:
        return TyperCommand(name, help=spec.help)


__all__ = ["Lazy", "LazyGroup"]
