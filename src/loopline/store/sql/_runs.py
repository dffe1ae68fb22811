"""Experiments, runs, params, tags and metrics on SQL: one repository of `SqlMetadataStore`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError, InvalidInputError, NotFoundError
from loopline.store._chunks import history, split
from loopline.store.interfaces import MAX_RUNS_PAGE, PointTuple
from loopline.store.records import RUN_STATUSES, Experiment, Lineage, MetricPoint, Run
from loopline.store.sql import _schema as t
from loopline.store.sql._bounds import check_pairs
from loopline.store.sql._engine import SqlRepository, lock
from loopline.store.sql._queries import (
    by_metric,
    group_by_run,
    parse_order,
    write_batch,
)

_LINEAGE_COLUMNS = (
    "git_commit",
    "git_dirty",
    "git_remote",
    "python_version",
    "packages_hash",
    "host",
    "user",
    "pid",
    "proc_start",
    "seed",
    "environment",
)


class SqlRunStore(SqlRepository):
    # experiments -------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> Experiment:
        with self._write_engine.begin() as conn:
            return self._experiment_in(conn, name, create=True)

    def _experiment_in(self, conn: sa.Connection, name: str, create: bool) -> Experiment:
        if not name or len(name) > 256:
            raise InvalidInputError(
                f"experiment name {name!r} must be 1 to 256 characters",
                hint="pass a short name such as experiment='churn'",
            )
        query = sa.select(t.experiments).where(t.experiments.c.name == name)
        row = conn.execute(query).first()
        if row is None and create:
            lock(conn, f"experiment:{name}")  # two new runs of a new experiment: one creates it
            row = conn.execute(query).first()
        if row is None:
            if not create:
                raise NotFoundError(
                    f"experiment {name!r} does not exist",
                    hint="see `loopline experiments list` for the names there are",
                )
            eid = conn.execute(
                sa.insert(t.experiments).values(name=name, created_at=time.time())
            ).inserted_primary_key
            assert eid is not None
            return Experiment(id=int(eid[0]), name=name, created_at=time.time())
        return Experiment(id=row.id, name=row.name, created_at=row.created_at)

    def get_experiment(self, name: str) -> Experiment:
        with self._engine.begin() as conn:
            return self._experiment_in(conn, name, create=False)

    def list_experiments(self) -> list[Experiment]:
        counts = (
            sa.select(t.runs.c.experiment_id, sa.func.count().label("n"))
            .group_by(t.runs.c.experiment_id)
            .subquery()
        )
        query = (
            sa.select(t.experiments, sa.func.coalesce(counts.c.n, 0).label("n"))
            .outerjoin(counts, counts.c.experiment_id == t.experiments.c.id)
            .order_by(t.experiments.c.id)
        )
        with self._engine.begin() as conn:
            return [
                Experiment(id=r.id, name=r.name, created_at=r.created_at, run_count=r.n)
                for r in conn.execute(query)
            ]

    # runs --------------------------------------------------------------------------
    def create_run(
        self,
        experiment: str,
        name: str | None,
        params: Mapping[str, str],
        tags: Mapping[str, str],
        lineage: Lineage,
    ) -> Run:
        run_id = uuid.uuid4().hex
        now = time.time()
        with self._write_engine.begin() as conn:
            exp = self._experiment_in(conn, experiment, create=True)
            values: dict[str, Any] = {c: getattr(lineage, c) for c in _LINEAGE_COLUMNS}
            conn.execute(
                sa.insert(t.runs).values(
                    id=run_id,
                    experiment_id=exp.id,
                    name=name or f"run-{run_id[:8]}",
                    status="running",
                    started_at=now,
                    heartbeat_at=now,
                    **values,
                )
            )
            if params:
                conn.execute(
                    sa.insert(t.params),
                    [{"run_id": run_id, "key": k, "value": v} for k, v in params.items()],
                )
            if tags:
                conn.execute(
                    sa.insert(t.tags),
                    [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()],
                )
        return Run(
            id=run_id,
            experiment_id=exp.id,
            experiment=exp.name,
            name=name or f"run-{run_id[:8]}",
            status="running",
            started_at=now,
            ended_at=None,
            heartbeat_at=now,
            error=None,
            lineage=lineage,
            params=dict(params),
            tags=dict(tags),
        )

    def get_run(self, run_id: str) -> Run:
        with self._engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            return self._runs_where(conn, t.runs.c.id == rid, limit=1)[0]

    def list_runs(
        self,
        experiment: str | None = None,
        status: str | None = None,
        limit: int = 100,
        sort: str | None = None,
        offset: int = 0,
        tag: Sequence[str] = (),
    ) -> list[Run]:
        if status is not None and status not in RUN_STATUSES:
            raise InvalidInputError(
                f"unknown run status {status!r}", hint=f"use one of {', '.join(RUN_STATUSES)}"
            )
        if limit < 1 or limit > MAX_RUNS_PAGE or offset < 0:
            raise InvalidInputError(
                f"limit={limit}, offset={offset} out of range",
                hint=f"use 1 <= limit <= {MAX_RUNS_PAGE} and offset >= 0",
            )
        with self._engine.begin() as conn:
            cond: list[sa.ColumnElement[bool]] = []
            if experiment is not None:
                cond.append(
                    t.runs.c.experiment_id == self._experiment_in(conn, experiment, False).id
                )
            if status is not None:
                cond.append(t.runs.c.status == status)
            for item in tag:
                key, eq, value = item.partition("=")
                if not eq or not key:
                    raise InvalidInputError(
                        f"tag filter {item!r} is not key=value", hint="write e.g. team=fraud"
                    )
                # Bound parameters, never string-built SQL: a filter is data, not code.
                cond.append(
                    sa.exists().where(
                        t.tags.c.run_id == t.runs.c.id, t.tags.c.key == key, t.tags.c.value == value
                    )
                )
            return self._runs_where(conn, sa.and_(sa.true(), *cond), limit, sort, offset)

    def _runs_where(
        self,
        conn: sa.Connection,
        where: sa.ColumnElement[bool],
        limit: int,
        sort: str | None = None,
        offset: int = 0,
    ) -> list[Run]:
        order = parse_order(sort)
        base = sa.select(t.runs, t.experiments.c.name.label("experiment")).join(
            t.experiments, t.experiments.c.id == t.runs.c.experiment_id
        )
        if order.field == "metric":
            having, lacking = by_metric(order, where, offset + limit)
            ids = list(conn.execute(having).scalars())
            if len(ids) < offset + limit:
                ids += conn.execute(lacking.limit(offset + limit - len(ids))).scalars()
            ids = ids[offset : offset + limit]
            found = {r.id: r for r in conn.execute(base.where(t.runs.c.id.in_(ids)))}
            rows = [found[i] for i in ids]
        else:
            query = base.where(where).order_by(*order.clauses()).limit(limit).offset(offset)
            rows = list(conn.execute(query))
        ids = [r.id for r in rows]
        if not ids:
            return []
        params = group_by_run(conn.execute(sa.select(t.params).where(t.params.c.run_id.in_(ids))))
        tags = group_by_run(conn.execute(sa.select(t.tags).where(t.tags.c.run_id.in_(ids))))
        latest = t.latest_metrics
        metrics: dict[str, dict[str, float]] = {}
        query = sa.select(latest.c.run_id, latest.c.key, latest.c.value)
        for m in conn.execute(query.where(latest.c.run_id.in_(ids))):
            metrics.setdefault(m.run_id, {})[m.key] = m.value
        return [
            Run(
                id=r.id,
                experiment_id=r.experiment_id,
                experiment=r.experiment,
                name=r.name,
                status=r.status,
                started_at=r.started_at,
                ended_at=r.ended_at,
                heartbeat_at=r.heartbeat_at,
                error=r.error,
                lineage=Lineage(**{c: getattr(r, c) for c in _LINEAGE_COLUMNS}),
                params=params.get(r.id, {}),
                tags=tags.get(r.id, {}),
                metrics=metrics.get(r.id, {}),
            )
            for r in rows
        ]

    def finish_run(
        self, run_id: str, status: str, error: str | None = None, only_if_running: bool = False
    ) -> None:
        if status not in RUN_STATUSES or status == "running":
            raise InvalidInputError(
                f"cannot end a run with status {status!r}", hint="use finished, failed or lost"
            )
        now = time.time()
        with self._write_engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            query = sa.update(t.runs).where(t.runs.c.id == rid)
            if only_if_running:
                query = query.where(t.runs.c.status == "running")
            conn.execute(query.values(status=status, error=error, ended_at=now, heartbeat_at=now))

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        if not params:
            return
        check_pairs("params", params)
        with self._write_engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            lock(conn, f"run:{rid}")
            have = {
                r.key: r.value
                for r in conn.execute(
                    sa.select(t.params).where(t.params.c.run_id == rid, t.params.c.key.in_(params))
                )
            }
            for key, value in params.items():
                if key in have and have[key] != value:
                    raise ConflictError(
                        f"param {key!r} of run {rid[:8]} is already {have[key]!r}; "
                        f"cannot change it to {value!r}",
                        hint="params are fixed for a run: start a new run for new values, "
                        "or log the changing quantity as a metric",
                    )
            new = [
                {"run_id": rid, "key": k, "value": v} for k, v in params.items() if k not in have
            ]
            if new:
                conn.execute(sa.insert(t.params), new)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        if not tags:
            return
        check_pairs("tags", tags)
        with self._write_engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            lock(conn, f"run:{rid}")
            conn.execute(sa.delete(t.tags).where(t.tags.c.run_id == rid, t.tags.c.key.in_(tags)))
            conn.execute(
                sa.insert(t.tags), [{"run_id": rid, "key": k, "value": v} for k, v in tags.items()]
            )

    def log_metrics(self, run_id: str, points: Sequence[PointTuple]) -> None:
        if not points:
            return
        chunks = split(points)  # packed before the transaction: it holds the write lock
        with self._write_engine.begin() as conn:
            write_batch(conn, run_id, chunks, time.time())

    def heartbeat(self, run_id: str) -> None:
        with self._write_engine.begin() as conn:
            conn.execute(
                sa.update(t.runs).where(t.runs.c.id == run_id).values(heartbeat_at=time.time())
            )

    def metric_history(self, run_id: str, key: str | None = None) -> list[MetricPoint]:
        with self._engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            c = t.metric_chunks.c
            q = sa.select(c.key, c.steps, c.vals, c.stamps).where(c.run_id == rid)
            if key is not None:
                q = q.where(c.key == key)
            # chunk id order is logging order: `history` sorts by key, step, timestamp, then it
            return history(conn.execute(q.order_by(c.key, c.id)))


def resolve_run_id(conn: sa.Connection, run_id: str, where: str) -> str:
    """The full id of `run_id` (a whole id, or a prefix of 4+ characters that names one run)."""
    if len(run_id) == 32:
        found = conn.execute(sa.select(t.runs.c.id).where(t.runs.c.id == run_id)).first()
        if found:
            return run_id
    elif len(run_id) >= 4 and run_id.isalnum():
        ids = conn.execute(
            sa.select(t.runs.c.id).where(t.runs.c.id.like(f"{run_id}%")).limit(2)
        ).all()
        if len(ids) == 1:
            return str(ids[0].id)
        if len(ids) > 1:
            raise InvalidInputError(
                f"run id prefix {run_id!r} matches more than one run",
                hint="give more characters of the id",
            )
    raise NotFoundError(
        f"run {run_id!r} does not exist in {where}",
        hint="see `loopline runs list` for run ids (a prefix of 4+ characters is enough)",
    )


def dumps_param(value: object) -> str:
    """Params are stored as text: strings as given, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)
