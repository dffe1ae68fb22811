"""Tables of tracking (revision 0001; latest metrics 0007, metric chunks 0008): experiments,
runs, params, tags, metric history, artifacts, datasets and lineage."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from loopline.store.sql._schema.conventions import metadata

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    # running | finished | failed | lost
    Column("status", String(16), nullable=False, index=True),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("heartbeat_at", Float, nullable=False),
    Column("error", Text),
    Column("user", String(128)),
    Column("host", String(256)),
    Column("pid", Integer),
    Column("proc_start", String(64)),
    Column("seed", BigInteger),
    Column("git_commit", String(64)),
    Column("git_dirty", Boolean),
    Column("git_remote", Text),
    Column("python_version", String(64)),
    Column("packages_hash", String(64)),
    Column("environment", JSON),
    # the listing's orders (newest first, in an experiment or across all), served by an index
    Index("ix_runs_experiment_started", "experiment_id", "started_at", "id"),
    Index("ix_runs_started", "started_at", "id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

# Metric history as columnar chunks: one row per key per written batch, its points packed as
# raw little-endian arrays (int64 steps, float64 values and timestamps; numpy reads them with
# frombuffer, never pickle). One row per point cost ~140 bytes and ~4 us to write, which a
# training loop logging a point per microsecond outran; a chunk costs ~24 bytes a point.
# Logging order is chunk id, then position in the chunk: history ties sort on it.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("key", String(256), nullable=False),
    Column("n", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    Column("stamps", LargeBinary, nullable=False),
    Index("ix_metric_chunks_run_key", "run_id", "key", "id"),
)

# Each run's last point per key (highest step, then newest timestamp, then last logged),
# kept in the same transaction as the points: listing and sorting runs read this small table
# and never the point history, so their cost does not grow with every point ever logged.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Float, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    # sorting runs by a metric walks this index instead of every run
    Index("ix_latest_metrics_key_value", "key", "value", "run_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("path", String(1024), nullable=False),
    # file | model
    Column("kind", String(16), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("meta", JSON),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("run_id", "path", name="uq_artifacts_run_path"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False, index=True),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_columns", Integer, nullable=False),
    Column("schema", JSON, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("source", Text),
    Column("artifact_sha256", String(64)),
    Column("created_at", Float, nullable=False),
)

run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), primary_key=True),
    Column("name", String(256), primary_key=True),
    # training | validation | test | evaluation | scoring | ...
    Column("role", String(64), nullable=False),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # kinds: dataset, run, artifact, model_version, deployment, commit
    Column("src_kind", String(32), nullable=False),
    Column("src_id", String(128), nullable=False),
    Column("dst_kind", String(32), nullable=False),
    Column("dst_id", String(128), nullable=False),
    Column("relation", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_lineage_src", "src_kind", "src_id"),
    Index("ix_lineage_dst", "dst_kind", "dst_id"),
)
