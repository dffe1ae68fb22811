"""Artifacts, datasets and lineage edges on SQL: one repository of `SqlMetadataStore` (run ids
resolved by `_runs.resolve_run_id`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError, InvalidInputError, NotFoundError
from loopline.store.interfaces import DATASETS_PAGE, MAX_DATASETS_PAGE
from loopline.store.records import Artifact, Dataset, DatasetUse, LineageEdge
from loopline.store.sql import _schema as t
from loopline.store.sql._bounds import check_page
from loopline.store.sql._engine import SqlRepository, lock
from loopline.store.sql._queries import dataset_record
from loopline.store.sql._runs import resolve_run_id


def check_artifact_path(path: str) -> str:
    """A run-relative POSIX path: no absolute paths, no '..', no backslashes.

    Artifact paths are names inside a run, and some clients turn them into files
    (downloads); one that could climb out of a folder is refused wherever it comes from.
    """
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or ".." in parts or "" in parts:
        raise InvalidInputError(
            f"artifact path {path[:200]!r} is not a relative path inside the run",
            hint="use names like 'model' or 'plots/roc.png' (no '..', no leading '/')",
        )
    return path


class SqlArtifactStore(SqlRepository):
    # artifacts ---------------------------------------------------------------------
    def record_artifact(
        self,
        run_id: str,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        meta: Mapping[str, Any] | None = None,
    ) -> Artifact:
        check_artifact_path(path)
        now = time.time()
        with self._write_engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            lock(conn, f"run:{rid}")
            exists = conn.execute(
                sa.select(t.artifacts.c.sha256).where(
                    t.artifacts.c.run_id == rid, t.artifacts.c.path == path
                )
            ).first()
            if exists is not None:
                raise ConflictError(
                    f"run {rid[:8]} already has an artifact at {path!r}",
                    hint="artifacts are immutable: log it under another name",
                )
            conn.execute(
                sa.insert(t.artifacts).values(
                    run_id=rid,
                    path=path,
                    kind=kind,
                    sha256=sha256,
                    size=size,
                    meta=dict(meta or {}),
                    created_at=now,
                )
            )
        return Artifact(rid, path, kind, sha256, size, now, dict(meta or {}))

    def get_artifact(self, run_id: str, path: str) -> Artifact:
        with self._engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            r = conn.execute(
                sa.select(t.artifacts).where(
                    t.artifacts.c.run_id == rid, t.artifacts.c.path == path
                )
            ).first()
        if r is None:
            raise NotFoundError(
                f"run {rid[:8]} has no artifact {path!r}",
                hint=f"see `loopline runs show {rid[:8]}` for its artifacts",
            )
        return Artifact(r.run_id, r.path, r.kind, r.sha256, r.size, r.created_at, r.meta or {})

    def list_artifacts(self, run_id: str) -> list[Artifact]:
        with self._engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            q = sa.select(t.artifacts).where(t.artifacts.c.run_id == rid).order_by(t.artifacts.c.id)
            return [
                Artifact(r.run_id, r.path, r.kind, r.sha256, r.size, r.created_at, r.meta or {})
                for r in conn.execute(q)
            ]

    # datasets and lineage -------------------------------------------------------------
    def record_dataset_use(
        self, run_id: str, dataset: Mapping[str, Any], name: str, role: str
    ) -> Dataset:
        now = time.time()
        with self._write_engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            fp = dataset["fingerprint"]
            lock(conn, f"run:{rid}", f"dataset:{fp}")
            row = conn.execute(sa.select(t.datasets).where(t.datasets.c.fingerprint == fp)).first()
            if row is None:
                conn.execute(sa.insert(t.datasets).values(created_at=now, **dataset))
                row = conn.execute(
                    sa.select(t.datasets).where(t.datasets.c.fingerprint == fp)
                ).one()
            link = {"run_id": rid, "dataset_id": row.id, "name": name}
            linked = conn.execute(
                sa.select(t.run_datasets).where(
                    *(t.run_datasets.c[k] == v for k, v in link.items())
                )
            ).first()
            if linked is None:
                conn.execute(sa.insert(t.run_datasets).values(role=role, **link))
                conn.execute(
                    sa.insert(t.lineage_edges).values(
                        src_kind="dataset",
                        src_id=fp,
                        dst_kind="run",
                        dst_id=rid,
                        relation=role,
                        created_at=now,
                    )
                )
            return dataset_record(row)

    def run_datasets(self, run_id: str) -> list[DatasetUse]:
        with self._engine.begin() as conn:
            rid = resolve_run_id(conn, run_id, self.url)
            q = (
                sa.select(
                    t.datasets, t.run_datasets.c.name.label("use_name"), t.run_datasets.c.role
                )
                .join(t.run_datasets, t.run_datasets.c.dataset_id == t.datasets.c.id)
                .where(t.run_datasets.c.run_id == rid)
                .order_by(t.run_datasets.c.name)
            )
            return [DatasetUse(dataset_record(r), r.use_name, r.role) for r in conn.execute(q)]

    def list_datasets(
        self, name: str | None = None, limit: int | None = DATASETS_PAGE, before: int | None = None
    ) -> list[Dataset]:
        # Newest first by id, the order of registration: a keyset on the primary key, so a
        # page reads `limit` rows whatever the table holds, and registering while paging
        # neither skips nor repeats a version.
        check_page(
            "list_datasets",
            limit,
            before,
            maximum=MAX_DATASETS_PAGE,
            before_is="a dataset version id",
            before_hint="pass the id of the last version of the previous page (before=page[-1].id)",
        )
        c = t.datasets.c
        q = sa.select(t.datasets).order_by(c.id.desc())
        if name is not None:
            q = q.where(c.name == name)
        if before is not None:
            q = q.where(c.id < before)
        if limit is not None:
            q = q.limit(limit)
        with self._engine.begin() as conn:
            return [dataset_record(r) for r in conn.execute(q)]

    def get_dataset(self, fingerprint: str) -> Dataset:
        fp = t.datasets.c.fingerprint
        with self._engine.begin() as conn:
            rows = (
                conn.execute(sa.select(t.datasets).where(fp.like(f"{fingerprint}%")).limit(2)).all()
                if len(fingerprint) >= 6 and fingerprint.isalnum()
                else []
            )
        if len(rows) == 1:
            return dataset_record(rows[0])
        if len(rows) > 1:
            raise InvalidInputError(
                f"dataset fingerprint prefix {fingerprint!r} matches more than one version",
                hint="give more characters of the fingerprint",
            )
        raise NotFoundError(
            f"dataset version {fingerprint!r} does not exist",
            hint="see `loopline data versions NAME` for fingerprints",
        )

    def add_lineage_edge(
        self, src_kind: str, src_id: str, dst_kind: str, dst_id: str, relation: str
    ) -> None:
        with self._write_engine.begin() as conn:
            conn.execute(
                sa.insert(t.lineage_edges).values(
                    src_kind=src_kind,
                    src_id=src_id,
                    dst_kind=dst_kind,
                    dst_id=dst_id,
                    relation=relation,
                    created_at=time.time(),
                )
            )

    def lineage_edges(self, kind: str, id: str) -> list[LineageEdge]:
        e = t.lineage_edges.c
        q = (
            sa.select(t.lineage_edges)
            .where(
                sa.or_(
                    sa.and_(e.src_kind == kind, e.src_id == id),
                    sa.and_(e.dst_kind == kind, e.dst_id == id),
                )
            )
            .order_by(e.id)
        )
        with self._engine.begin() as conn:
            return [
                LineageEdge(r.src_kind, r.src_id, r.dst_kind, r.dst_id, r.relation, r.created_at)
                for r in conn.execute(q)
            ]
