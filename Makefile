# The front door: the targets a person types are the ones CI calls.
SHELL := /bin/bash
PYTHON_BIN ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/transcoder_image

.PHONY: help setup run test test-fast lint format synth bench clean

help:
	@echo "make run    - start the whole service offline (installs what it needs)"
	@echo "make test   - lint, type-check and run every test tier (installs what it needs)"
	@echo "make synth  - synthesize the CloudFormation template offline (no AWS credentials)"
	@echo "make bench  - measure cost, speed and quality of the pipeline"

setup: .stamp-system $(VENV)/.stamp-python

# System packages: FFmpeg always; Chromium for the browser tests. Installed with
# apt-get when running as root, otherwise the missing ones are named.
.stamp-system:
	@scripts/install-system-deps.sh
	@touch $@

$(VENV)/.stamp-python: requirements.txt lambdas/requirements.txt transcoder_image/requirements.txt
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

run: setup
	$(PY) -m local up

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(VENV)/bin/pytest

test-fast: setup
	$(VENV)/bin/pytest -m "not slow" -x -q

synth: setup
	$(PY) app.py

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .stamp-* cdk.out .local-state test-artifacts
