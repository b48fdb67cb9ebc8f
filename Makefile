# One entry point for people and CI. Every target sets up what it needs by itself.
VENV        := .venv
PY          := $(VENV)/bin/python
PY_STAMP    := $(VENV)/.installed
NODE_STAMP  := node_modules/.installed
CHECKOV     := .venv-checkov/bin/checkov
CHECKOV_VER := 3.3.30

.PHONY: setup test test-unit lint run docs bench soak fuzz package smoke clean

setup: $(PY_STAMP) $(NODE_STAMP) $(CHECKOV)

$(PY_STAMP): requirements.txt requirements-dev.txt constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins many libraries of its own; it gets a venv of its own so it cannot clash.
$(CHECKOV):
	python3 -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q "checkov==$(CHECKOV_VER)"

# ruff over everything; mypy over the deployed app (pyproject.toml [tool.mypy] names the files).
lint: $(PY_STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# The whole gate (what CI runs): every lane, unit, integration, e2e and slow.
test: setup lint
	$(PY) -m pytest

# The inner loop: the unit lane only (in-process; no Node, no Azurite, no checkov), under a minute.
test-unit: $(PY_STAMP)
	$(PY) -m pytest -m unit -q

# `make run ENDPOINTS=2`: two SignalR emulators behind the facade (stop one to watch the failover);
# `make run VERBOSE=1`: the Azure SDKs' HTTP traffic too; `make run CORE_TOOLS=1`: the function app under
# Azure Functions Core Tools (`func start`, installed separately; docs/development/local-host.md).
ENDPOINTS ?= 1
run: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m devstack up $(if $(MANAGED_IDENTITY),--managed-identity) $(if $(VERBOSE),--verbose) $(if $(CORE_TOOLS),--core-tools) --endpoints $(ENDPOINTS)

# The documentation site at http://127.0.0.1:8000/, rebuilt on every save (`make test` builds it strictly).
docs: $(PY_STAMP)
	$(PY) -m mkdocs serve

# The proof: each prints a report; bench also writes docs/operations/benchmarks.md.
bench: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m bench

soak: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m bench.soak

fuzz: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m bench.fuzz

# The zip docs/operations/deploy.md deploys: the files .funcignore lets through (the app and its pins).
package: $(PY_STAMP)
	$(PY) -m devstack.package dist/signalr-facade.zip

# The deployed app, end to end (docs/deploy.md, "Smoke test"): health, broadcast, negotiate + a client, the
# commands queue and the events path. `make smoke URL=https://<app>.azurewebsites.net
# SCOPE=api://<API client id>/.default STORAGE=<storage account>`; the token comes from the Azure CLI's
# signed-in identity (or pass TOKEN=...).
smoke: $(PY_STAMP)
	@test -n "$(URL)" || { echo "usage: make smoke URL=<app URL> SCOPE=<api>/.default STORAGE=<account>"; exit 2; }
	$(PY) -m devstack.smoke --url "$(URL)" --storage-account "$(STORAGE)" \
		--token "$${TOKEN:-$$(az account get-access-token --scope "$(SCOPE)" --query accessToken -o tsv)}"

clean:
	rm -rf dist site $(VENV) .venv-checkov node_modules .pytest_cache .ruff_cache .mypy_cache .devstack
