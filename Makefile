# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
UV     := $(VENV)/bin/uv
# Packages go in with uv, itself pip-installed into the venv first: on a fresh machine `.[dev]`
# took 54-98 s against pip's 671 s, measured side by side (docs/decisions.md, ADR-055), and
# it takes torch's CPU build from the machine's wheel folder (PIP_FIND_LINKS) where pip
# downloads the multi-GB CUDA build of the same version. pip is the fallback where uv cannot
# be installed. $(call install,PYTHON,ARGS) installs ARGS into PYTHON's environment.
install = if [ -x $(UV) ]; then $(UV) pip install -q --python $(1) \
  $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) $(2); \
  else $(1) -m pip --disable-pip-version-check -q install $(2); fi

# The store-level security tests: they run embedded, on PostgreSQL and through the server.
SECURITY_STORE_TESTS := tests/security/test_promotion_protocol.py \
  tests/security/test_protocol_property.py tests/security/test_identity.py \
  tests/security/test_store_bounds.py

.PHONY: demo test services lint typecheck pytest pytest-postgres pytest-remote soak bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install uv || echo "uv not installed: packages go in with pip (slower)"

$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(call install,$(PY),-e '.[demo]')
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(PY)
	$(call install,$(PY),-e '.[dev]')
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(PY) examples/churn/demo.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check src tests examples benchmarks
	$(VENV)/bin/ruff format --check src tests examples benchmarks

typecheck: $(VENV)/.dev-installed
	$(VENV)/bin/mypy --strict src/loopline

# Tests that drive real servers with real clients end to end (protocol conformance with
# tritonclient, replays through serving and monitoring, reconcile/rollback): a second tier,
# after the core, so the core stays under 7 minutes on CI's 2 cores.
INTEGRATION_TESTS := tests/serving/test_oip_conformance.py \
  tests/monitoring/test_replay_no_false_alarm.py tests/serving/test_reconcile.py \
  tests/serving/test_rollback_alert.py tests/serving/test_mlflow_conformance.py \
  tests/serving/test_openapi.py tests/serving/test_prometheus.py

# The peer's real client for the MLflow conformance test, in a venv of its own (mlflow pins
# what it needs; the product venv must not get it). Built once, rebuilt when the pin changes;
# without network the test skips and says why.
MLFLOW_VENV := .venv-mlflow
$(MLFLOW_VENV)/.installed: tests/requirements-mlflow.txt | $(PY)
	@($(PYTHON) -m venv $(MLFLOW_VENV) && $(call install,$(MLFLOW_VENV)/bin/python,-r $<) && \
	  touch $@) || echo "mlflow venv not built: tests/serving/test_mlflow_conformance.py will skip"

# 60 s of load at 80% of the measured maximum throughput against `loopline models serve`: a
# throughput and memory measurement, run by `make soak` and `make bench`, not by `make test`.
SOAK_TESTS := tests/e2e/test_serving_soak.py

# pytest with the plugins it needs named, not auto-loaded: pytest rewrites the asserts of
# every module in an auto-loaded plugin's distribution (all of hypothesis, schemathesis and
# anyio), in each worker, and with PYTHONDONTWRITEBYTECODE nothing caches the result:
# 2.5-6.5 s of CPU per pytest process, measured. The suite uses no anyio or schemathesis plugin
# (tests/server/test_api_schema.py calls schemathesis itself).
PYTEST := $(PY) -m pytest --disable-plugin-autoload -p xdist.plugin -p xdist.looponfail \
  -p _hypothesis_pytestplugin

# The core tier on both cores (tests that share the session's Ray cluster stay on one
# worker), then the integration tier; then the e2e tests side by side, one worker each: the
# demo run twice, the README tour run as written, and the demo stopped by a broken column
# then finished with --quarantine (moved out of the core tier: a whole demo run). Three
# workers on two cores: they wait on their subprocesses much of the time, and two workers
# would run two of them in a row (measured: 255 s against 375 s with -n 2).
pytest: $(VENV)/.dev-installed $(MLFLOW_VENV)/.installed
	$(PYTEST) -n 2 --dist loadgroup --ignore=tests/e2e $(addprefix --ignore=,$(INTEGRATION_TESTS))
	$(PYTEST) -n 2 --dist loadgroup $(INTEGRATION_TESTS)
	$(PYTEST) -n 3 tests/e2e $(addprefix --ignore=,$(SOAK_TESTS))

soak: $(VENV)/.dev-installed
	$(PYTEST) $(SOAK_TESTS)

# The store and registry suites again on a real PostgreSQL server (issue 10): a throwaway
# server (tests/_backends.py: initdb + pg_ctl, as user postgres when root, trust auth, 127.0.0.1
# only, a free port, data in a temp dir), a fresh database per test, stopped at the end.
pytest-postgres: $(VENV)/.dev-installed
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)) || \
	  echo "PostgreSQL not installed (needs root and apt-get)"
	@dir=$$(mktemp -d); trap '$(PY) -m tests._backends pg-stop "$$dir"; rm -rf "$$dir"' EXIT; \
	trap 'exit 130' INT TERM; \
	if url=$$($(PY) -m tests._backends pg-start "$$dir"); then \
	  echo "PostgreSQL pass against $$url"; \
	  LL_TEST_PG_URL=$$url $(PYTEST) tests/store tests/registry $(SECURITY_STORE_TESTS); \
	else echo "PostgreSQL pass skipped: the server could not be started (reason above)"; fi

# The tracking and registry suites again through a live `loopline server` (issue 8):
# every library call crosses HTTP with an API token. One server per xdist worker; each test
# gets a fresh app over its own store and home behind it (tests/conftest.py).
pytest-remote: $(VENV)/.dev-installed
	LL_TEST_REMOTE=1 $(PYTEST) -q -n 2 tests/tracking tests/registry $(SECURITY_STORE_TESTS)

# Services the tests need, installed when missing (CI runs as root on Debian); a test whose
# service cannot be installed skips and says why.
# What is missing, by a file each package provides: one `apt-get update` serves them all.
APT_MISSING = $(strip $(if $(shell command -v dot),,graphviz) \
  $(if $(wildcard /usr/lib/postgresql/*/bin/initdb)$(shell command -v initdb),,postgresql) \
  $(if $(wildcard /usr/bin/chromium),,chromium) $(if $(shell command -v promtool),,prometheus))

services:
	@[ -z "$(APT_MISSING)" ] || ! command -v apt-get >/dev/null || [ "$$(id -u)" != 0 ] || \
	  apt-get update -qq || echo "apt-get update failed: installing what is missing may fail"
	@command -v dot >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get install -y -qq graphviz >/dev/null) || \
	  echo "graphviz not installed: diagram svg/png tests will skip")
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get install -y -qq postgresql >/dev/null)) || \
	  echo "postgresql not installed: the PostgreSQL pass (pytest-postgres) will skip"
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get install -y -qq chromium >/dev/null)) || \
	  echo "chromium not installed: the web UI browser tests (tests/ui) will skip"
	@command -v promtool >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get install -y -qq --no-install-recommends prometheus >/dev/null)) || \
	  echo "promtool not installed: tests/serving/test_prometheus.py will not lint /metrics"

# The PostgreSQL and remote passes run at once: each alone leaves part of CI's two cores idle
# (the PostgreSQL pass is one pytest process, the remote pass ends on one long test). Each
# pass's output is printed whole when it ends; make fails if either fails.
# The system packages, the product venv and the mlflow venv go in side by side (apt, PyPI and
# the disk: three different waits); then lint, types and the tiers.
test:
	$(MAKE) --no-print-directory -j3 --output-sync=target services $(VENV)/.dev-installed \
	  $(MLFLOW_VENV)/.installed
	$(MAKE) --no-print-directory lint typecheck pytest
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest-postgres pytest-remote

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/run.py
	$(MAKE) soak

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) .loopline demo-output .mypy_cache .ruff_cache .pytest_cache
