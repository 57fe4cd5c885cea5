# The front door: the targets a person types are the ones CI calls.
SHELL := /bin/bash
PYTHON_BIN ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/transcoder_image
# The browser tests drive the system's Chromium; Playwright never downloads one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# The CDK CLI pinned in package.json; it runs cdk.json's `python3 app.py`, so the venv's
# Python goes first on its PATH.
CDK_CLI := node_modules/.stamp-cdk
CDK := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx --no-install cdk
WEB_INPUTS := web/package.json web/package-lock.json web/index.html web/vite.config.ts \
	web/tsconfig.json $(shell find web/src -type f 2>/dev/null)

.PHONY: help setup deploy-setup run test test-fast test-web lint format synth bench clean

help:
	@echo "make run    - start the whole service offline (installs what it needs)"
	@echo "make test   - lint, type-check and run every test tier (installs what it needs)"
	@echo "make synth  - synthesize the CloudFormation template offline (no AWS credentials)"
	@echo "make deploy-setup - only what cdk deploy needs: Python and Node, no FFmpeg or root"
	@echo "make bench  - measure cost, speed and quality of the pipeline"

setup: .stamp-system $(VENV)/.stamp-python web/dist $(CDK_CLI)

# Deploying needs Python and Node only: the CDK app's packages, the CLI and the web build.
deploy-setup: $(VENV)/.stamp-deploy $(CDK_CLI) web/dist

# System packages: FFmpeg always; Chromium for the browser tests. Installed with
# apt-get when running as root, otherwise the missing ones are named.
.stamp-system:
	@scripts/install-system-deps.sh
	@touch $@

$(VENV)/.stamp-python: requirements.txt lambdas/requirements.txt transcoder_image/requirements.txt \
		cdk/requirements.txt
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.stamp-deploy: cdk/requirements.txt
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r cdk/requirements.txt
	@touch $@

$(CDK_CLI): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The web app, built from the locked dependencies (served offline by local/webapp.py and
# deployed by the stack). Node is all it needs.
web/dist: $(WEB_INPUTS)
	cd web && npm ci --no-audit --no-fund && npm run build
	@touch $@

run: setup
	$(PY) -m local up

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd web && npm run lint  # eslint (typescript-eslint, typed) and prettier --check

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint test-web
	$(VENV)/bin/pytest

# The web app's unit tests (Vitest); its type check runs in the build.
test-web: web/dist
	cd web && npm test

test-fast: setup
	$(VENV)/bin/pytest -m "not slow" -x -q

# No AWS credentials needed: the stack is environment-agnostic, and cdk.json turns off
# notices and telemetry, so synth makes no network call.
synth: deploy-setup
	$(CDK) synth --quiet

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .stamp-* cdk.out .local-state test-artifacts web/dist web/node_modules \
		node_modules
