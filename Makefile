# seqbench: `make test` and `make bench` set up everything they need.
PYTHON ?= python3
VENV ?= .venv
# torch is installed on its own first. On the project's CPU machines this pin
# takes a local CPU build; an unpinned torch pulls a CUDA build of several GB.
# GPU users: make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv test bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick suite (every model family on every task, 3 seeds; a few minutes
# on 2 cores) into reports/quick/results.sqlite. Finished jobs are kept, so
# an interrupted `make bench` resumes; `seqbench results reports/quick/results.sqlite`
# prints the table. The speed benchmarks: $(PY) benchmarks/run_all.py
bench: venv
	$(VENV)/bin/seqbench run --suite quick --jobs 2 --out reports/quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
