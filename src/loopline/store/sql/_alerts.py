"""Alerts and their deliveries on SQL.

Raising is read-then-write in one write transaction (SQLite: BEGIN IMMEDIATE), and the partial
unique index `uq_alerts_open_model_rule` makes "one open alert per rule and model" hold even
against a writer that skipped the read, so concurrent monitors never open two.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.errors import InvalidInputError, NotFoundError
from loopline.store.records import (
    SEVERITIES,
    Alert,
    AlertChange,
    Delivery,
    severity_rank,
)
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._engine import SqlRepository

AL = t.alerts.c
DL = t.alert_deliveries.c


def _alert(r: Any) -> Alert:
    return Alert(
        r.id,
        r.model,
        r.rule,
        r.severity,
        r.notified_severity,
        r.status,
        r.first_seen,
        r.last_seen,
        r.resolved_at,
        r.count,
        r.message,
        r.runbook,
        r.context,
    )


def _delivery(r: Any) -> Delivery:
    return Delivery(
        r.id,
        r.alert_id,
        r.event,
        r.sink,
        r.status,
        r.attempts,
        r.error,
        r.payload,
        r.created_at,
        r.updated_at,
    )


def _open(conn: sa.Connection, model: str, rule: str) -> Any:
    return conn.execute(
        sa.select(t.alerts).where(AL.model == model, AL.rule == rule, AL.status == "open")
    ).first()


class SqlAlertStore(SqlRepository):
    def raise_alert(
        self,
        model: str,
        rule: str,
        *,
        severity: str,
        message: str,
        runbook: str,
        context: Mapping[str, Any],
        actor: str,
    ) -> AlertChange:
        if severity not in SEVERITIES:
            raise InvalidInputError(
                f"alert severity {severity!r} is unknown", hint=f"use one of {SEVERITIES}"
            )
        now = time.time()
        ctx = dict(context)
        with self._control_engine.begin() as conn:
            row = _open(conn, model, rule)
            if row is None:
                aid = conn.execute(
                    sa.insert(t.alerts).values(
                        model=model,
                        rule=rule,
                        severity=severity,
                        notified_severity=severity,
                        status="open",
                        first_seen=now,
                        last_seen=now,
                        count=1,
                        message=message,
                        runbook=runbook,
                        context=ctx,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                transition, before = "fired", None
            else:
                aid = row.id
                escalated = severity_rank(severity) > severity_rank(row.notified_severity)
                notified = severity if escalated else row.notified_severity
                conn.execute(
                    sa.update(t.alerts)
                    .where(AL.id == aid)
                    .values(
                        severity=severity,
                        notified_severity=notified,
                        last_seen=now,
                        count=row.count + 1,
                        message=message,
                        context=ctx,
                    )
                )
                transition = "escalated" if escalated else "repeated"
                before = {"severity": row.severity, "count": row.count}
            if transition != "repeated":  # a repeat changes a counter, not the alert's state
                append_audit(
                    conn,
                    actor=actor,
                    action=f"alert.{transition}",
                    target_kind="alert",
                    target_id=f"{model}:{rule}#{aid}",
                    before=before,
                    after={"severity": severity, "context": ctx},
                    reason=message,
                )
            new = conn.execute(sa.select(t.alerts).where(AL.id == aid)).one()
        return AlertChange(_alert(new), transition)

    def resolve_alert(
        self, model: str, rule: str, *, actor: str, message: str
    ) -> AlertChange | None:
        now = time.time()
        with self._control_engine.begin() as conn:
            row = _open(conn, model, rule)
            if row is None:
                return None
            conn.execute(
                sa.update(t.alerts)
                .where(AL.id == row.id)
                .values(status="resolved", resolved_at=now, last_seen=now)
            )
            append_audit(
                conn,
                actor=actor,
                action="alert.resolved",
                target_kind="alert",
                target_id=f"{model}:{rule}#{row.id}",
                before={"severity": row.severity, "count": row.count},
                after={"status": "resolved"},
                reason=message,
            )
            new = conn.execute(sa.select(t.alerts).where(AL.id == row.id)).one()
        return AlertChange(_alert(new), "resolved")

    def get_alert(self, alert_id: int) -> Alert:
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(t.alerts).where(AL.id == alert_id)).first()
        if row is None:
            raise NotFoundError(
                f"alert #{alert_id} does not exist", hint="see `loopline monitors alerts --all`"
            )
        return _alert(row)

    def list_alerts(
        self, model: str | None = None, status: str | None = "open", limit: int = 1000
    ) -> list[Alert]:
        q = sa.select(t.alerts).order_by(AL.id.desc()).limit(limit)
        if model is not None:
            q = q.where(AL.model == model)
        if status is not None:
            q = q.where(AL.status == status)
        with self._engine.begin() as conn:
            return [_alert(r) for r in conn.execute(q)]

    # deliveries -------------------------------------------------------------------------------
    def record_delivery(
        self,
        alert_id: int,
        *,
        event: str,
        sink: str,
        status: str,
        attempts: int,
        error: str | None,
        payload: Mapping[str, Any],
    ) -> Delivery:
        now = time.time()
        values = {
            "alert_id": alert_id,
            "event": event,
            "sink": sink[:512],
            "status": status,
            "attempts": attempts,
            "error": error,
            "payload": dict(payload),
            "created_at": now,
            "updated_at": now,
        }
        with self._control_engine.begin() as conn:
            did = conn.execute(sa.insert(t.alert_deliveries).values(**values))
            row = conn.execute(
                sa.select(t.alert_deliveries).where(DL.id == did.inserted_primary_key[0])  # type: ignore[index]
            ).one()
            if status == "dead_letter":
                append_audit(
                    conn,
                    actor="loopline",
                    action="alert.dead_letter",
                    target_kind="alert",
                    target_id=f"#{alert_id}",
                    after={"sink": sink, "attempts": attempts, "delivery_id": row.id},
                    reason=error,
                )
        return _delivery(row)

    def update_delivery(
        self, delivery_id: int, *, status: str, attempts: int, error: str | None
    ) -> Delivery:
        with self._control_engine.begin() as conn:
            n = conn.execute(
                sa.update(t.alert_deliveries)
                .where(DL.id == delivery_id)
                .values(status=status, attempts=attempts, error=error, updated_at=time.time())
            ).rowcount
            if not n:
                raise NotFoundError(f"delivery #{delivery_id} does not exist", hint="")
            row = conn.execute(sa.select(t.alert_deliveries).where(DL.id == delivery_id)).one()
        return _delivery(row)

    def list_deliveries(
        self, status: str | None = None, alert_id: int | None = None
    ) -> list[Delivery]:
        q = sa.select(t.alert_deliveries).order_by(DL.id)
        if status is not None:
            q = q.where(DL.status == status)
        if alert_id is not None:
            q = q.where(DL.alert_id == alert_id)
        with self._engine.begin() as conn:
            return [_delivery(r) for r in conn.execute(q)]


__all__ = ["SqlAlertStore"]
