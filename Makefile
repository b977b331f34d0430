# Two commands for a fresh machine: `make run` (portal + worker + beat on embedded defaults,
# with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install messages lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# compilemessages refuses to run when there is no locale/ directory yet (no catalogue to compile).
messages: $(STAMP)
	if [ -d locale ]; then $(PY) manage.py compilemessages -v0 --ignore=.venv; fi

run: install messages
	DEBUG=1 ./scripts/run-dev.sh

test: install messages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf var db.sqlite3
