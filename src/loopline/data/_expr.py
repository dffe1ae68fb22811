"""Custom row rules as expressions, evaluated by `DataFrame.eval` over whole columns.

An expression comes from a contract file, i.e. from whoever can edit that file, so it is
parsed first and only a small grammar is let through: column names, literals, arithmetic,
comparisons, `and`/`or`/`not`, `in` lists. No calls, attributes, subscripts or `@locals`,
so an expression cannot reach Python objects. Python's `eval` is never used.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd

_BACKTICK = re.compile(r"`([^`]+)`")
_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Invert,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.BitAnd,
    ast.BitOr,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
)
_WORDS = {"True", "False"}


def _parse(expr: str) -> tuple[ast.Expression, dict[str, str]]:
    # pandas quotes awkward column names in backticks; swap them for identifiers to parse.
    quoted: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        key = f"q{len(quoted)}_"
        quoted[key] = match.group(1)
        return key

    try:
        tree = ast.parse(_BACKTICK.sub(swap, expr), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"expression {expr!r} does not parse: {exc.msg}") from None
    return tree, quoted


def expression_columns(expr: str) -> set[str]:
    """The column names `expr` uses; raises ValueError for anything outside the grammar."""
    if not expr.strip():
        raise ValueError("expression is empty")
    tree, quoted = _parse(expr)
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            what = type(node).__name__.lower()
            raise ValueError(
                f"expression {expr!r} uses {what}, which contracts do not allow: only column "
                "names, literals, arithmetic, comparisons, and/or/not and `in [...]`"
            )
        if isinstance(node, ast.Constant) and not isinstance(
            node.value, str | int | float | bool | type(None)
        ):
            raise ValueError(f"expression {expr!r} has an unsupported literal {node.value!r}")
        if isinstance(node, ast.Name) and node.id not in _WORDS:
            if node.id.startswith("_"):
                raise ValueError(f"expression {expr!r}: names starting with '_' are not allowed")
            names.add(quoted.get(node.id, node.id))
    return names


def evaluate_expression(df: pd.DataFrame, expr: str) -> np.ndarray:
    """Boolean array, True where the row satisfies `expr`; a null result counts as False."""
    expression_columns(expr)
    result = df.eval(expr)
    if isinstance(result, pd.Series) and len(result) == len(df):
        series: pd.Series = result
        if pd.api.types.is_bool_dtype(series.dtype):
            out: np.ndarray = series.to_numpy(dtype=bool, na_value=False)
            return out
    raise ValueError(
        f"expression {expr!r} must give true/false for each row, got "
        f"{type(result).__name__}{'' if not hasattr(result, 'dtype') else f' of {result.dtype}'}"
    )


__all__ = ["evaluate_expression", "expression_columns"]
