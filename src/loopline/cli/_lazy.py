"""Subcommands imported only when invoked, so `loopline --help` never loads a model library.

Typer has no lazy-loading hook, so this is Click's documented pattern ("lazily loading
subcommands": a group whose `get_command` imports the command on demand) on Typer's group
class. While the group prints its own help it lists placeholders carrying the help line
given at registration, so `loopline --help` imports no subcommand module either;
`loopline models --help` imports `loopline.cli._models` and nothing it only uses inside
commands. tests/cli/test_startup.py checks each placeholder's line against the real one.

Every command loaded here also gets plain help (`plain_help`): docstrings are written
wrapped at 100 columns, and Typer prints a paragraph's line breaks as they are, so each
paragraph is re-flowed to the terminal width; and Typer's type tags (`--json <bool>`,
`--tag <list[str]>`) are left out: the option names and help lines say what to pass.

Start-up cost (ADR in docs/decisions.md): those parameters convert their values without
Pydantic (_coerce.py), help screens are drawn by Typer's renderer loaded without the
Markdown and traceback modules Loopline never uses (_help_render.py), and a command's
`invoke` tells _startup.py that start-up is over.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer._coercion import RuntimeParam
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from loopline.cli import _help_render, _startup
from loopline.cli._coerce import quick_runtime_param


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
        return plain_help(group.commands[name])


def _no_options() -> None:
    pass


def reflow(text: str | None) -> str | None:
    """Each paragraph on one line, for the terminal to wrap; a paragraph that is a list
    (lines starting with "-", "*" or an indent) or marked verbatim with \\b stays as is."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p
        if p.startswith("\b") or any(line.startswith((" ", "-", "*")) for line in p.splitlines())
        else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


# `__slots__ = ()` on each: the same object layout, so an instance's class can be swapped.
class _PlainOption(TyperOption):
    __slots__ = ()

    def get_runtime_param(self) -> RuntimeParam:
        # Plain values convert without Pydantic (_coerce.py); Typer's conversion otherwise.
        if self._runtime_param is None:
            self._runtime_param = quick_runtime_param(self.type_descriptor)
        return self._runtime_param or super().get_runtime_param()

    def display_type_rich(self, ctx: Any) -> str | None:
        # Only a choice says something the help line does not: the values allowed.
        return super().display_type_rich(ctx) if self.type_descriptor.is_choice else None


class _PlainArgument(TyperArgument):
    __slots__ = ()

    def get_runtime_param(self) -> RuntimeParam:
        if self._runtime_param is None:
            self._runtime_param = quick_runtime_param(self.type_descriptor)
        return self._runtime_param or super().get_runtime_param()

    def display_type_rich(self, ctx: Any) -> str | None:
        return super().display_type_rich(ctx) if self.type_descriptor.is_choice else None

    @property
    def display_name_raw(self) -> str:
        # NAME, as the docstrings write it ("Versions of NAME ..."), not `{name}`.
        return self.metavar if self.metavar is not None else self.name.upper()

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


_PLAIN_PARAMS: dict[type, type] = {TyperOption: _PlainOption, TyperArgument: _PlainArgument}


def _plain_params(params: list[Any]) -> list[Any]:
    for param in params:
        plain = _PLAIN_PARAMS.get(type(param))
        if plain is not None:
            param.__class__ = plain  # the same layout, only the help display differs
    return params


_PLAIN_CLASSES: dict[type[Any], type[Any]] = {}


def _plain_class(cls: type[Any]) -> type[Any]:
    """`cls` whose parameters (--help included, which Click creates on first use) print
    without type tags. A direct subclass: a mixin would change the object layout."""

    def get_params(self: Any, ctx: Any) -> list[Any]:
        return _plain_params(cls.get_params(self, ctx))

    def format_help(self: Any, ctx: Any, formatter: Any) -> None:
        _help_render.load()
        cls.format_help(self, ctx, formatter)

    def invoke(self: Any, ctx: Any) -> Any:
        _startup.command_starts()
        return cls.invoke(self, ctx)

    if cls not in _PLAIN_CLASSES:
        attrs: dict[str, Any] = {"get_params": get_params, "format_help": format_help}
        attrs.update(invoke=invoke, _plain=True)
        _PLAIN_CLASSES[cls] = type(cls.__name__, (cls,), attrs)
    return _PLAIN_CLASSES[cls]


def plain_help(command: Any) -> Any:
    """`command` and its subcommands, with re-flowed help and plain parameters."""
    command.help = reflow(command.help)
    command.short_help = reflow(command.short_help)
    if not getattr(command, "_plain", False):
        command.__class__ = _plain_class(type(command))
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    return command


class LazyGroup(TyperGroup):
    """A Typer group whose `subcommands` (name → Lazy, in display order) load on first use.

    Subclass it with `subcommands` set and pass the subclass as `typer.Typer(cls=...)`.
    """

    subcommands: ClassVar[dict[str, Lazy]] = {}
    _plain = True

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.help = reflow(self.help)
        self._listing = False

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_params(super().get_params(ctx))

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
        _help_render.load()
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


__all__ = ["Lazy", "LazyGroup", "plain_help", "reflow"]
