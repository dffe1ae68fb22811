"""`prompts:/name@alias`, `prompts:/name/3` and `indexes:/name@alias`: registry URIs under
their own schemes, resolved to the `models:/` version they name (one registry for all)."""

from __future__ import annotations

from loopline.errors import InvalidInputError
from loopline.registry import ModelRef, parse_model_uri

PROMPTS = "prompts:/"
INDEXES = "indexes:/"
_EXAMPLES = {PROMPTS: "prompts:/support-reply@production", INDEXES: "indexes:/docs@production"}


def parse_uri(uri: str, scheme: str) -> ModelRef:
    """The registry reference of `scheme…` (a `models:/` URI is accepted too)."""
    if not isinstance(uri, str) or not (uri.startswith(scheme) or uri.startswith("models:/")):
        raise InvalidInputError(
            f"{uri!r} is not a {scheme[:-2]} URI",
            hint=f"write {scheme}<name>@<alias> (e.g. {_EXAMPLES[scheme]}) or {scheme}<name>/<n>",
        )
    rest = uri[len(scheme) :] if uri.startswith(scheme) else uri[len("models:/") :]
    try:
        return parse_model_uri("models:/" + rest)
    except InvalidInputError as exc:
        raise InvalidInputError(
            exc.message.replace("models:/", scheme), hint=exc.hint.replace("models:/", scheme)
        ) from None


def parse_prompt_uri(uri: str) -> ModelRef:
    """The registry reference of a `prompts:/` URI, checked without opening any store (a
    read-only command validates its arguments before it looks for a project)."""
    return parse_uri(uri, PROMPTS)


def model_uri(uri: str, scheme: str) -> str:
    """The `models:/` URI of a `prompts:/` or `indexes:/` URI (`latest` kept as such)."""
    parse_uri(uri, scheme)  # validated, with the error in the user's scheme
    rest = uri[len(scheme) :] if uri.startswith(scheme) else uri[len("models:/") :]
    return "models:/" + rest.strip()


__all__ = ["INDEXES", "PROMPTS", "model_uri", "parse_prompt_uri", "parse_uri"]
