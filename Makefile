# Two commands do all the set-up on a fresh machine:
#   make demo   trains the main recipes on the built-in data and draws their figures (runs/demo/)
#   make test   runs the test suite
# Each creates .venv and installs what it needs: the CPU build of torch 2.13.0 where no torch
# is present, then aekit with its dev, onnx, serve, mlflow and dask extras (the tests of each).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The real datasets beside the checkout (../shared/datasets) when present; else $AEKIT_DATA or the
# user cache, where missing built-in datasets are downloaded.
SHARED := $(abspath ../shared/datasets)
export AEKIT_DATA ?= $(if $(wildcard $(SHARED)/PROVENANCE.md),$(SHARED),)

.PHONY: demo test install clean bench docs

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,onnx,serve,mlflow,dask]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) scripts/demo.py runs/demo

docs: $(STAMP)
	$(PY) -m mkdocs build --strict -d site

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
