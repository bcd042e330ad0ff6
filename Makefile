# seqbench: `make test` and `make bench` set up everything they need.
PYTHON ?= python3
VENV ?= .venv
# torch is installed on its own first. On the project's CPU machines this pin
# takes a local CPU build; an unpinned torch pulls a CUDA build of several GB.
# GPU users: make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv chromium test bench speed clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# The report's browser test opens the HTML report in Debian's Chromium.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	  else \
	    echo "Chromium is missing: install it (sudo apt-get install chromium) or set CHROMIUM=/path/to/chrome;"; \
	    echo "SEQBENCH_SKIP_BROWSER=1 skips the browser test, with that reason."; \
	  fi; }

test: venv chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick suite (every model family on every task, 3 seeds; a few minutes
# on 2 cores) into reports/quick/results.sqlite. Finished jobs are kept, so
# an interrupted `make bench` resumes; `seqbench results reports/quick/results.sqlite`
# prints the table, and the report is written to reports/quick/index.html,
# summary.md and results.csv.
bench: venv
	$(VENV)/bin/seqbench run --suite quick --jobs 2 --out reports/quick

# The speed benchmarks (each wrapper against the library it wraps; figures in
# benchmarks/README.md).
speed: venv
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
