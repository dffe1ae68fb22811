"""Deployments on SQL: each change is one transaction with its audit event."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError, InvalidInputError, NotFoundError
from loopline.store.records import (
    DEPLOY_ACTIONS,
    DEPLOY_STATUSES,
    PROGRESS_ACTION,
    STRATEGIES,
    Deployment,
    check_alias,
)
from loopline.store.sql import _protocol as protocol
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._bounds import MAX_TEXT, check_document, check_text
from loopline.store.sql._engine import SqlRepository
from loopline.store.sql._evidence import alias_holder
from loopline.store.sql._promotion import move_alias_in
from loopline.store.sql._registry import find_model_id, find_version

D = t.deployments.c
_ACTIVE = "active"
# Strategies whose challenger answers real traffic (shadow only mirrors it).
_SERVES_CHALLENGER = frozenset({"canary", "blue_green", "ab"})


def _check_percent(value: float | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100
    ):
        raise InvalidInputError(
            f"challenger_percent {value!r} is not a percentage", hint="use a number from 0 to 100"
        )


def _check_choice(what: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise InvalidInputError(
            f"unknown {what} {value!r}", hint=f"use one of {', '.join(allowed)}"
        )


class SqlDeploymentStore(SqlRepository):
    def _deployment(self, conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Deployment]:
        champ = t.model_versions.alias("champ")
        chall = t.model_versions.alias("chall")
        q = (
            sa.select(
                t.deployments,
                t.registered_models.c.name.label("model"),
                champ.c.version.label("champ_v"),
                chall.c.version.label("chall_v"),
            )
            .join(t.registered_models, t.registered_models.c.id == D.model_id)
            .join(champ, champ.c.id == D.champion_version_id)
            .outerjoin(chall, chall.c.id == D.challenger_version_id)
            .where(where)
            .order_by(D.id)
        )
        return [
            Deployment(
                r.id,
                r.model,
                r.alias,
                r.strategy,
                r.champ_v,
                r.chall_v,
                r.params,
                r.status,
                r.step,
                r.challenger_percent,
                r.reason,
                r.created_by,
                r.created_at,
                r.updated_at,
            )
            for r in conn.execute(q)
        ]

    def create_deployment(
        self,
        model: str,
        *,
        alias: str,
        strategy: str,
        champion_version: int,
        challenger_version: int | None,
        params: Mapping[str, Any],
        challenger_percent: float,
        actor: str,
    ) -> Deployment:
        check_alias(alias)
        _check_choice("strategy", strategy, STRATEGIES)
        _check_percent(challenger_percent)
        check_document("deployment params", params)
        now = time.time()
        with self._control_engine.begin() as conn:
            mid = find_model_id(conn, model)
            active = conn.execute(
                sa.select(D.id).where(D.model_id == mid, D.status == _ACTIVE)
            ).scalar()
            if active is not None:
                raise ConflictError(
                    f"model {model!r} already has an active deployment (#{active})",
                    hint=f"finish or stop it first: loopline deployments stop {model}",
                )
            champ = find_version(conn, model, champion_version)
            chall = (
                find_version(conn, model, challenger_version)
                if challenger_version is not None
                else None
            )
            self._check_protected_rollout(conn, model, mid, alias, strategy, champ, chall)
            did = conn.execute(
                sa.insert(t.deployments).values(
                    model_id=mid,
                    alias=alias,
                    strategy=strategy,
                    champion_version_id=champ.id,
                    challenger_version_id=chall.id if chall is not None else None,
                    params=dict(params),
                    status=_ACTIVE,
                    step=0,
                    challenger_percent=challenger_percent,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append_audit(
                conn,
                actor=actor,
                action="deploy.start",
                target_kind="deployment",
                target_id=f"{model}#{did}",
                after={
                    "strategy": strategy,
                    "champion": champion_version,
                    "challenger": challenger_version,
                    "params": dict(params),
                },
            )
            return self._deployment(conn, D.id == did)[0]

    def _check_protected_rollout(
        self,
        conn: sa.Connection,
        model: str,
        mid: int,
        alias: str,
        strategy: str,
        champ: Any,
        chall: Any | None,
    ) -> None:
        """A protected alias's traffic goes only to its holder and to a challenger that could
        be promoted right now (gate passed, approvals present); shadow only mirrors."""
        if not protocol.policy_in_force(conn, mid, alias).protected:
            return
        holder = alias_holder(conn, mid, alias)
        if holder is None or holder.version_id != champ.id:
            raise ConflictError(
                f"{model}@{alias} is protected: the champion of its rollout must be its "
                f"current holder" + (f" (version {holder.version})" if holder else ""),
                hint=f"promote a first version to {alias} before rolling out against it",
            )
        if chall is not None and strategy in _SERVES_CHALLENGER:
            try:
                protocol.check_protected_move(
                    conn, model, mid, alias, chall, holder.version_id, None
                )
            except ConflictError as exc:
                raise ConflictError(
                    f"{exc.message}; its {strategy} rollout needs that first",
                    hint=f"an approver clears it: loopline models gate {model} {chall.version} "
                    f"{alias}; then start the rollout",
                ) from None

    def active_deployment(self, model: str) -> Deployment | None:
        with self._engine.begin() as conn:
            mid = find_model_id(conn, model)
            found = self._deployment(conn, sa.and_(D.model_id == mid, D.status == _ACTIVE))
            return found[-1] if found else None

    def get_deployment(self, deployment_id: int) -> Deployment:
        with self._engine.begin() as conn:
            found = self._deployment(conn, D.id == deployment_id)
        if not found:
            raise NotFoundError(
                f"deployment #{deployment_id} does not exist",
                hint="see `loopline deployments list MODEL`",
            )
        return found[0]

    def list_deployments(self, model: str) -> list[Deployment]:
        with self._engine.begin() as conn:
            return self._deployment(conn, D.model_id == find_model_id(conn, model))

    def _note_progress(
        self, deployment_id: int, expected_step: int, params: Mapping[str, Any] | None
    ) -> Deployment | None:
        """Keep `params["progress"]` with the active rollout at `expected_step`: no audit
        event and no new `updated_at` (the step's clock), and no other params key changes."""
        progress = dict((params or {}).get("progress") or {})
        check_document("deployment progress", progress)
        with self._control_engine.begin() as conn:
            found = self._deployment(conn, D.id == deployment_id)
            if not found:
                raise NotFoundError(f"deployment #{deployment_id} does not exist", hint="")
            merged = {**found[0].params, "progress": progress}
            changed = conn.execute(
                sa.update(t.deployments)
                .where(D.id == deployment_id, D.status == _ACTIVE, D.step == expected_step)
                .values(params=merged)
            ).rowcount
            return self._deployment(conn, D.id == deployment_id)[0] if changed == 1 else None

    def update_deployment(
        self,
        deployment_id: int,
        *,
        expected_step: int,
        actor: str,
        action: str,
        status: str | None = None,
        step: int | None = None,
        challenger_percent: float | None = None,
        params: Mapping[str, Any] | None = None,
        reason: str | None = None,
        promote_alias: bool = False,
    ) -> Deployment | None:
        _check_choice("action", action, DEPLOY_ACTIONS)
        if action == PROGRESS_ACTION:
            others = (status, step, challenger_percent, reason)
            if any(v is not None for v in others) or promote_alias:
                raise InvalidInputError(
                    "a deploy.progress update changes nothing but the progress note",
                    hint="pass params={'progress': {...}} only",
                )
            return self._note_progress(deployment_id, expected_step, params)
        values = _changes(status, step, challenger_percent, params, reason)
        with self._control_engine.begin() as conn:
            before = self._deployment(conn, D.id == deployment_id)
            if not before:
                raise NotFoundError(f"deployment #{deployment_id} does not exist", hint="")
            old = before[0]
            changed = conn.execute(
                sa.update(t.deployments)
                .where(D.id == deployment_id, D.status == _ACTIVE, D.step == expected_step)
                .values(**values)
            ).rowcount
            if changed != 1:
                return None  # finished, or another replica moved it first
            _audit_update(conn, old, actor=actor, action=action, values=values, reason=reason)
            if promote_alias and old.challenger_version is not None:
                target = find_version(conn, old.model, old.challenger_version)
                move_alias_in(
                    conn,
                    old.model,
                    old.alias,
                    target,
                    actor=actor,
                    action="promote",
                    reason=reason or f"deployment #{deployment_id} completed",
                    gate_decision_id=None,
                )
            return self._deployment(conn, D.id == deployment_id)[0]

    def report_swap_failure(self, model: str, version: int, *, error: str, actor: str) -> None:
        with self._control_engine.begin() as conn:
            find_version(conn, model, version)  # the version must exist
            append_audit(
                conn,
                actor=actor,
                action="serving.swap_failed",
                target_kind="model_version",
                target_id=f"{model}/{version}",
                after={"error": error[:MAX_TEXT]},
            )


def _changes(
    status: str | None,
    step: int | None,
    challenger_percent: float | None,
    params: Mapping[str, Any] | None,
    reason: str | None,
) -> dict[str, Any]:
    """The columns an update sets, checked: `updated_at` (the step's clock) and each value
    given."""
    _check_choice("status", status, DEPLOY_STATUSES)
    _check_percent(challenger_percent)
    check_document("deployment params", params)
    check_text("reason", reason)
    values: dict[str, Any] = {"updated_at": time.time()}
    for key, value in (
        ("status", status),
        ("step", step),
        ("params", params),
        ("challenger_percent", challenger_percent),
        ("reason", reason),
    ):
        if value is not None:
            values[key] = dict(value) if isinstance(value, Mapping) else value
    return values


def _audit_update(
    conn: sa.Connection,
    old: Deployment,
    *,
    actor: str,
    action: str,
    values: Mapping[str, Any],
    reason: str | None,
) -> None:
    """The update's audit event; an automatic rollback is also an alert to humans."""
    target = f"{old.model}#{old.id}"
    append_audit(
        conn,
        actor=actor,
        action=action,
        target_kind="deployment",
        target_id=target,
        before={
            "status": old.status,
            "step": old.step,
            "challenger_percent": old.challenger_percent,
        },
        after={k: v for k, v in values.items() if k != "updated_at"},
        reason=reason,
    )
    if values.get("status") == "rolled_back":
        append_audit(
            conn,
            actor=actor,
            action="alert.canary_rolled_back",
            target_kind="deployment",
            target_id=target,
            after={"challenger": old.challenger_version},
            reason=reason,
        )
