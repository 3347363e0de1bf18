# Two entry points for a fresh machine:
#   make demo   set everything up, then fetch the bundled sample series and review it
#   make test   set everything up, then run the whole test suite (what .ci/run calls)
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint clean

setup:
	bash scripts/setup.sh $(VENV)

demo: setup
	bash scripts/demo.sh $(VENV)

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

lint: setup
	$(VENV)/bin/ruff check reviewtool tests benchmarks fixtures
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info
