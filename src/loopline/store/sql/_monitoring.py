"""Monitors, window results, monitor runs and retrain requests on SQL: one repository of
`SqlMetadataStore` (alerts and deliveries are `SqlAlertStore`'s)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError, InvalidInputError, NotFoundError
from loopline.store.records import (
    LABELS_ACTIONS,
    Monitor,
    MonitorRun,
    RetrainRequest,
    WindowResult,
)
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._bounds import check_document, check_text, window_seconds
from loopline.store.sql._engine import SqlRepository

MO = t.monitors.c
MW = t.monitor_windows.c
MR = t.monitor_runs.c
RR = t.retrain_requests.c
RETRAIN_STATUSES = ("pending", "started", "done", "cancelled")


def _monitor(r: Any) -> Monitor:
    return Monitor(
        r.id,
        r.uri,
        r.model,
        r.window_spec,
        r.config,
        r.schedule,
        r.created_by,
        r.created_at,
        r.updated_at,
        r.last_run_at,
    )


def _request(r: Any) -> RetrainRequest:
    return RetrainRequest(
        r.id,
        r.model,
        r.version,
        r.status,
        r.reason,
        r.context,
        r.alert_id,
        r.requested_by,
        r.requested_at,
        r.updated_at,
    )


class SqlMonitoringStore(SqlRepository):
    # monitors ---------------------------------------------------------------------------------
    def save_monitor(
        self,
        uri: str,
        *,
        model: str,
        window: str,
        config: Mapping[str, Any],
        schedule: str | None,
        actor: str,
    ) -> Monitor:
        window_seconds(window)  # refused here: a stored bad window would break every reader
        check_document("monitor config", config)
        check_text("monitor uri", uri, limit=512)
        check_text("schedule", schedule, limit=128)
        now = time.time()
        values = {"window_spec": window, "config": dict(config), "schedule": schedule}
        with self._control_engine.begin() as conn:
            row = conn.execute(sa.select(t.monitors).where(MO.uri == uri)).first()
            if row is None:
                conn.execute(
                    sa.insert(t.monitors).values(
                        uri=uri,
                        model=model,
                        created_by=actor,
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
                before = None
            else:
                conn.execute(
                    sa.update(t.monitors).where(MO.id == row.id).values(updated_at=now, **values)
                )
                before = {"window": row.window_spec, "schedule": row.schedule}
            append_audit(
                conn,
                actor=actor,
                action="monitor.configured",
                target_kind="monitor",
                target_id=uri,
                before=before,
                after={"window": window, "schedule": schedule, "config": dict(config)},
            )
            new = conn.execute(sa.select(t.monitors).where(MO.uri == uri)).one()
        return _monitor(new)

    def get_monitor(self, uri: str) -> Monitor:
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(t.monitors).where(MO.uri == uri)).first()
        if row is None:
            raise NotFoundError(
                f"no monitor for {uri}",
                hint=f"run `loopline monitors run {uri}` or `loopline monitors schedule {uri}`",
            )
        return _monitor(row)

    def list_monitors(self) -> list[Monitor]:
        with self._engine.begin() as conn:
            return [_monitor(r) for r in conn.execute(sa.select(t.monitors).order_by(MO.id))]

    def record_monitor_run(
        self,
        monitor_id: int,
        windows: Sequence[WindowResult],
        *,
        status: str,
        summary: Mapping[str, Any],
        actor: str,
    ) -> MonitorRun:
        now = time.time()
        with self._control_engine.begin() as conn:
            starts = [w.start for w in windows]
            if starts:  # re-running a window replaces its result
                conn.execute(
                    sa.delete(t.monitor_windows).where(
                        MW.monitor_id == monitor_id, MW.window_start.in_(starts)
                    )
                )
                conn.execute(
                    sa.insert(t.monitor_windows),
                    [
                        {
                            "monitor_id": monitor_id,
                            "window_start": w.start,
                            "window_end": w.end,
                            "n_rows": w.n_rows,
                            "versions": list(w.versions),
                            "result": w.result,
                            "computed_at": now,
                        }
                        for w in windows
                    ],
                )
            n_rows = sum(w.n_rows for w in windows)
            rid = conn.execute(
                sa.insert(t.monitor_runs).values(
                    monitor_id=monitor_id,
                    at=now,
                    actor=actor,
                    status=status,
                    n_windows=len(windows),
                    n_rows=n_rows,
                    summary=dict(summary),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(sa.update(t.monitors).where(MO.id == monitor_id).values(last_run_at=now))
        return MonitorRun(
            int(rid), monitor_id, now, actor, status, len(windows), n_rows, dict(summary)
        )

    def list_windows(self, monitor_id: int, since: float | None = None) -> list[WindowResult]:
        q = sa.select(t.monitor_windows).where(MW.monitor_id == monitor_id)
        if since is not None:
            q = q.where(MW.window_start >= since)
        with self._engine.begin() as conn:
            return [
                WindowResult(
                    r.window_start, r.window_end, r.n_rows, r.versions, r.result, r.computed_at
                )
                for r in conn.execute(q.order_by(MW.window_start))
            ]

    def list_monitor_runs(self, monitor_id: int, limit: int = 100) -> list[MonitorRun]:
        q = sa.select(t.monitor_runs).where(MR.monitor_id == monitor_id)
        with self._engine.begin() as conn:
            return [
                MonitorRun(
                    r.id, r.monitor_id, r.at, r.actor, r.status, r.n_windows, r.n_rows, r.summary
                )
                for r in conn.execute(q.order_by(MR.id.desc()).limit(limit))
            ]

    # retrain requests -------------------------------------------------------------------------
    def request_retrain(
        self,
        model: str,
        version: int | None,
        *,
        reason: str,
        context: Mapping[str, Any],
        alert_id: int | None,
        actor: str,
    ) -> tuple[RetrainRequest, bool]:
        now = time.time()
        with self._control_engine.begin() as conn:
            pending = conn.execute(
                sa.select(t.retrain_requests).where(RR.model == model, RR.status == "pending")
            ).first()
            if pending is not None:
                return _request(pending), False
            rid = conn.execute(
                sa.insert(t.retrain_requests).values(
                    model=model,
                    version=version,
                    status="pending",
                    reason=reason,
                    context=dict(context),
                    alert_id=alert_id,
                    requested_by=actor,
                    requested_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append_audit(
                conn,
                actor=actor,
                action="retrain.requested",
                target_kind="model",
                target_id=model if version is None else f"{model}/{version}",
                after={"request_id": rid, "alert_id": alert_id, "context": dict(context)},
                reason=reason,
            )
            row = conn.execute(sa.select(t.retrain_requests).where(RR.id == rid)).one()
        return _request(row), True

    def update_retrain_request(
        self, request_id: int, *, status: str, actor: str, reason: str | None = None
    ) -> RetrainRequest:
        if status not in RETRAIN_STATUSES:
            raise InvalidInputError(
                f"retrain request status {status!r} is unknown",
                hint=f"use one of {', '.join(RETRAIN_STATUSES)}",
            )
        with self._control_engine.begin() as conn:
            row = conn.execute(sa.select(t.retrain_requests).where(RR.id == request_id)).first()
            if row is None:
                raise NotFoundError(
                    f"retrain request #{request_id} does not exist",
                    hint="see `loopline monitors retrains`",
                )
            if row.status in ("done", "cancelled"):
                raise ConflictError(
                    f"retrain request #{request_id} is already {row.status}",
                    hint="a finished request cannot change; the next trigger opens a new one",
                )
            conn.execute(
                sa.update(t.retrain_requests)
                .where(RR.id == request_id)
                .values(status=status, updated_at=time.time())
            )
            append_audit(
                conn,
                actor=actor,
                action=f"retrain.{status}",
                target_kind="model",
                target_id=row.model if row.version is None else f"{row.model}/{row.version}",
                before={"status": row.status},
                after={"status": status, "request_id": request_id},
                reason=reason,
            )
            new = conn.execute(sa.select(t.retrain_requests).where(RR.id == request_id)).one()
        return _request(new)

    def list_retrain_requests(
        self, model: str | None = None, status: str | None = None
    ) -> list[RetrainRequest]:
        q = sa.select(t.retrain_requests).order_by(RR.id.desc())
        if model is not None:
            q = q.where(RR.model == model)
        if status is not None:
            q = q.where(RR.status == status)
        with self._engine.begin() as conn:
            return [_request(r) for r in conn.execute(q)]

    # delayed labels ---------------------------------------------------------------------------
    def record_labels_change(
        self, model: str, *, action: str, labels_id: str, rows: int, source: str, actor: str
    ) -> None:
        if action not in LABELS_ACTIONS:
            raise InvalidInputError(
                f"labels action {action!r} is unknown",
                hint=f"use one of {', '.join(LABELS_ACTIONS)}",
            )
        check_text("model", model, limit=256)
        check_text("labels id", labels_id, limit=128)
        check_text("labels source", source, limit=1024)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InvalidInputError("labels rows must be a count >= 0", hint="pass the row count")
        with self._control_engine.begin() as conn:
            append_audit(
                conn,
                actor=actor,
                action=f"labels.{action}",
                target_kind="labels",
                target_id=f"{model}/{labels_id}",
                after={"model": model, "labels_id": labels_id, "rows": rows, "source": source},
            )


__all__ = ["RETRAIN_STATUSES", "SqlMonitoringStore"]
