# Two commands: `make demo` and `make test`. Both set everything up on a fresh machine first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup java browser test test-networkx notebooks demo bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

setup: $(STAMP) java

# Headless Chromium for the report test, from Debian's packages (needs root; the test skips with a
# clear message where it cannot run, except under CI=true).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and no root: the browser test will skip"; fi; }

# A Java runtime for Spark (the fleet tests run PySpark in local mode), from Debian's packages.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else echo "java not installed and no root: the Spark tests will skip (never under CI=true)"; fi; }

test: setup browser lint
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-networkx

# networkx's own tests of the functions the omega backend runs, run against it the way
# nx-parallel's CI does: networkx converts each test graph to the backend and checks our answers.
# Run from an empty folder so that this project's pytest settings do not apply to networkx's tests.
NX_TESTS := networkx.algorithms.link_analysis networkx.algorithms.tests.test_dag \
	networkx.algorithms.tests.test_d_separation networkx.algorithms.shortest_paths \
	networkx.algorithms.traversal networkx.algorithms.components networkx.algorithms.tests.test_cycles \
	networkx.algorithms.centrality.tests.test_degree_centrality
test-networkx: setup
	cd "$$(mktemp -d)" && NETWORKX_TEST_BACKEND=omega NETWORKX_FALLBACK_TO_NX=True \
	  $(abspath $(PY)) -m pytest --pyargs $(NX_TESTS) -q -p no:cacheprovider -W error::RuntimeWarning

demo: setup
	$(VENV)/bin/omega-graph demo

# Execute the notebooks and store their outputs in place (commit the result): the tests check that a
# fresh run still shows what is committed.
notebooks: setup
	$(PY) -m tests.notebook_run

bench: setup
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/run_all.py

# Checks that can fail, run by `make test` before the tests: lint (unused noqa comments included),
# formatting, and types (what py.typed promises; configuration in pyproject.toml).
CODE := omega_graph _omega_graph_nx tests benchmarks
lint: setup
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
