"""The registry on SQL (models, versions, cards, owners): one repository of `SqlMetadataStore`.
`find_model_id` and `find_version` are the lookups the other areas use inside their own
transactions."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.errors import InvalidInputError, NotFoundError
from loopline.store.interfaces import MAX_VERSIONS_PAGE, VERSIONS_PAGE
from loopline.store.records import ModelVersion, RegisteredModel, check_model_name
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._bounds import check_document, check_metrics, check_page, check_text
from loopline.store.sql._engine import SqlRepository

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
V = t.model_versions.c


def find_model_id(conn: sa.Connection, name: str) -> int:
    """The id of registered model `name` (NotFoundError if there is none)."""
    mid = conn.execute(
        sa.select(t.registered_models.c.id).where(t.registered_models.c.name == name)
    ).scalar()
    if mid is None:
        raise NotFoundError(
            f"registered model {name!r} does not exist",
            hint="see `loopline models list`; register one with `loopline models register`",
        )
    return int(mid)


def find_version(conn: sa.Connection, name: str, version: int) -> Any:
    """The `model_versions` row of `name/version` (NotFoundError if there is none)."""
    mid = find_model_id(conn, name)
    row = conn.execute(
        sa.select(t.model_versions).where(V.model_id == mid, V.version == version)
    ).first()
    if row is None:
        raise NotFoundError(
            f"model {name!r} has no version {version}",
            hint=f"see `loopline models show {name}` for its versions",
        )
    return row


class SqlRegistryStore(SqlRepository):
    def _aliases_of(self, conn: sa.Connection, version_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        q = sa.select(t.model_aliases).where(t.model_aliases.c.version_id.in_(version_ids))
        for r in conn.execute(q.order_by(t.model_aliases.c.alias)):
            out.setdefault(r.version_id, []).append(r.alias)
        return out

    def _last_gates(self, conn: sa.Connection, version_ids: list[int]) -> dict[int, bool]:
        """Version id → whether its latest gate decision passed, in one query."""
        g = t.gate_decisions.c
        last = (
            sa.select(sa.func.max(g.id))
            .where(g.version_id.in_(version_ids))
            .group_by(g.version_id)
            .scalar_subquery()
        )
        rows = conn.execute(sa.select(g.version_id, g.passed).where(g.id.in_(last)))
        return {r.version_id: bool(r.passed) for r in rows}

    def _versions(self, conn: sa.Connection, name: str, rows: list[Any]) -> list[ModelVersion]:
        ids = [r.id for r in rows]
        aliases = self._aliases_of(conn, ids)
        gates = self._last_gates(conn, ids)
        return [
            ModelVersion(
                id=r.id,
                model=name,
                version=r.version,
                run_id=r.run_id,
                artifact_path=r.artifact_path,
                sha256=r.sha256,
                flavor=r.flavor,
                signature=r.signature,
                metrics=r.metrics,
                git_commit=r.git_commit,
                created_by=r.created_by,
                created_at=r.created_at,
                card=r.card,
                aliases=tuple(aliases.get(r.id, [])),
                gate=None if r.id not in gates else "passed" if gates[r.id] else "failed",
            )
            for r in rows
        ]

    # models and versions --------------------------------------------------------------------
    def create_version(
        self,
        model: str,
        *,
        run_id: str,
        artifact_path: str,
        sha256: str,
        flavor: str,
        signature: Mapping[str, Any] | None,
        metrics: Mapping[str, float],
        git_commit: str | None,
        created_by: str,
        card: Mapping[str, Any],
        creator_role: str = "unknown",
    ) -> ModelVersion:
        check_model_name(model)
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise InvalidInputError(
                f"sha256 {str(sha256)[:80]!r} is not 64 lower-case hex digits",
                hint="register the sha256 of a model package in the artifact store",
            )
        check_document("model card", card)
        check_document("signature", signature)
        check_metrics("model metrics", metrics)
        check_text("artifact_path", artifact_path, limit=1024)
        check_text("flavor", flavor, limit=32)
        check_text("git_commit", git_commit, limit=64)
        now = time.time()
        with self._control_engine.begin() as conn:
            mid = conn.execute(
                sa.select(t.registered_models.c.id).where(t.registered_models.c.name == model)
            ).scalar()
            if mid is None:
                mid = conn.execute(
                    sa.insert(t.registered_models).values(name=model, created_at=now)
                ).inserted_primary_key[0]  # type: ignore[index]
            last = conn.execute(sa.select(sa.func.max(V.version)).where(V.model_id == mid)).scalar()
            number = (last or 0) + 1
            conn.execute(
                sa.insert(t.model_versions).values(
                    model_id=mid,
                    version=number,
                    run_id=run_id,
                    artifact_path=artifact_path,
                    sha256=sha256,
                    flavor=flavor,
                    signature=dict(signature or {}) or None,
                    metrics=dict(metrics),
                    git_commit=git_commit,
                    created_by=created_by,
                    created_at=now,
                    card=dict(card),
                    creator_role=creator_role,
                )
            )
            append_audit(
                conn,
                actor=created_by,
                action="register",
                target_kind="model_version",
                target_id=f"{model}/{number}",
                after={"run_id": run_id, "sha256": sha256, "flavor": flavor},
            )
            conn.execute(
                sa.insert(t.lineage_edges).values(
                    src_kind="run",
                    src_id=run_id,
                    dst_kind="model_version",
                    dst_id=f"{model}/{number}",
                    relation="produced",
                    created_at=now,
                )
            )
            row = find_version(conn, model, number)
            return self._versions(conn, model, [row])[0]

    def get_model(self, model: str) -> RegisteredModel:
        with self._engine.begin() as conn:
            mid = find_model_id(conn, model)
            return self._registered(conn, [mid])[0]

    def list_models(self) -> list[RegisteredModel]:
        with self._engine.begin() as conn:
            ids = [r.id for r in conn.execute(sa.select(t.registered_models.c.id).order_by("name"))]
            return self._registered(conn, ids)

    def _registered(self, conn: sa.Connection, ids: list[int]) -> list[RegisteredModel]:
        rows = conn.execute(
            sa.select(t.registered_models).where(t.registered_models.c.id.in_(ids))
        ).all()
        latest_q = (
            sa.select(V.model_id, sa.func.max(V.version).label("v"))
            .where(V.model_id.in_(ids))
            .group_by(V.model_id)
        )
        latest = {r.model_id: r.v for r in conn.execute(latest_q)}
        aliases: dict[int, dict[str, int]] = {}
        q = sa.select(t.model_aliases.c.model_id, t.model_aliases.c.alias, V.version).join(
            t.model_versions, V.id == t.model_aliases.c.version_id
        )
        for r in conn.execute(q.where(t.model_aliases.c.model_id.in_(ids))):
            aliases.setdefault(r.model_id, {})[r.alias] = r.version
        by_id = {
            r.id: RegisteredModel(
                r.id,
                r.name,
                r.description,
                r.owner,
                r.created_at,
                aliases.get(r.id, {}),
                latest.get(r.id),
                r.team,
                r.oncall,
            )
            for r in rows
        }
        return [by_id[i] for i in ids if i in by_id]

    def get_version(self, model: str, version: int) -> ModelVersion:
        with self._engine.begin() as conn:
            return self._versions(conn, model, [find_version(conn, model, version)])[0]

    def get_version_by_alias(self, model: str, alias: str) -> ModelVersion:
        with self._engine.begin() as conn:
            mid = find_model_id(conn, model)
            row = conn.execute(
                sa.select(t.model_versions)
                .join(t.model_aliases, t.model_aliases.c.version_id == V.id)
                .where(t.model_aliases.c.model_id == mid, t.model_aliases.c.alias == alias)
            ).first()
            if row is None:
                held = conn.execute(
                    sa.select(t.model_aliases.c.alias).where(t.model_aliases.c.model_id == mid)
                ).scalars()
                raise NotFoundError(
                    f"model {model!r} has no alias {alias!r}",
                    hint=_missing_alias_hint(model, alias, sorted(held)),
                )
            return self._versions(conn, model, [row])[0]

    def list_versions(
        self, model: str, limit: int | None = VERSIONS_PAGE, before: int | None = None
    ) -> list[ModelVersion]:
        check_page(
            "list_versions",
            limit,
            before,
            maximum=MAX_VERSIONS_PAGE,
            before_is="a version number",
            before_hint="pass the last version of the previous page, e.g. before=951",
        )
        with self._engine.begin() as conn:
            mid = find_model_id(conn, model)
            if limit is not None:
                return self._page(conn, model, mid, limit, before)
            # Every version, read a page at a time in one transaction: the alias and gate
            # lookups take the page's ids as bound parameters, which databases cap.
            out: list[ModelVersion] = []
            while page := self._page(conn, model, mid, MAX_VERSIONS_PAGE, before):
                out += page
                before = page[-1].version
            return out

    def _page(
        self, conn: sa.Connection, model: str, mid: int, limit: int, before: int | None
    ) -> list[ModelVersion]:
        """Three statements whatever the model holds: the page (on the unique index of
        (model_id, version)), its aliases, its latest gate decisions."""
        q = sa.select(t.model_versions).where(V.model_id == mid)
        if before is not None:
            q = q.where(V.version < before)
        rows = conn.execute(q.order_by(V.version.desc()).limit(limit)).all()
        return self._versions(conn, model, list(rows)) if rows else []

    def update_card(
        self, model: str, version: int, card: Mapping[str, Any], actor: str
    ) -> ModelVersion:
        check_document("model card", card)
        with self._control_engine.begin() as conn:
            row = find_version(conn, model, version)
            conn.execute(sa.update(t.model_versions).where(V.id == row.id).values(card=dict(card)))
            append_audit(
                conn,
                actor=actor,
                action="edit_card",
                target_kind="model_version",
                target_id=f"{model}/{version}",
                before=row.card,
                after=dict(card),
            )
            return self._versions(conn, model, [find_version(conn, model, version)])[0]

    def set_model_owner(
        self, model: str, *, team: str | None, oncall: str | None, actor: str
    ) -> RegisteredModel:
        R = t.registered_models.c
        check_text("team", team, limit=128)
        check_text("oncall", oncall, limit=256)
        with self._control_engine.begin() as conn:
            mid = find_model_id(conn, model)
            row = conn.execute(sa.select(R.team, R.oncall).where(R.id == mid)).one()
            conn.execute(
                sa.update(t.registered_models).where(R.id == mid).values(team=team, oncall=oncall)
            )
            append_audit(
                conn,
                actor=actor,
                action="model.owner",
                target_kind="model",
                target_id=model,
                before={"team": row.team, "oncall": row.oncall},
                after={"team": team, "oncall": oncall},
            )
        return self.get_model(model)


def _missing_alias_hint(model: str, alias: str, held: list[str]) -> str:
    """A typo gets the alias it was probably meant to be; otherwise what the model has and
    how to create the asked-for one."""
    import difflib

    near = difflib.get_close_matches(alias, held, n=1)
    if near:
        return f"did you mean {near[0]!r}? {model} has aliases: {', '.join(held)}"
    have = f"{model} has aliases: {', '.join(held)}; " if held else ""
    return f"{have}promote a version first: loopline models promote {model} N {alias}"
