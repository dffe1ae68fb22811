# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test services lint typecheck pytest bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(PY) examples/churn/demo.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check src tests examples benchmarks
	$(VENV)/bin/ruff format --check src tests examples benchmarks

typecheck: $(VENV)/.dev-installed
	$(VENV)/bin/mypy --strict src/loopline

pytest: $(VENV)/.dev-installed
	$(PY) -m pytest

# Services the tests need, installed when missing (CI runs as root on Debian); a test whose
# service cannot be installed skips and says why.
services:
	@command -v dot >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || \
	  echo "graphviz not installed: diagram svg/png tests will skip")

test: services lint typecheck pytest

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .loopline demo-output .mypy_cache .ruff_cache .pytest_cache
