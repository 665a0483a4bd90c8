# Two commands for a newcomer (see README.md):
#   make demo   install into .venv and start the demo county at http://127.0.0.1:5000
#   make test   install into .venv (with test extras and Debian's Chromium) and run every test, browser tests included
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin

.PHONY: demo test install install-test browser bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'

demo: install
	$(BIN)/villageapp demo --port $(PORT)

# Chromium and CJK fonts come from Debian, never from a browser download
# and nginx for the test of towns split over two servers behind it (tests/test_shards.py; only its binary is used)
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK" || [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk nginx; \
	fi

test: install-test browser
	$(BIN)/python -m pytest -v

bench: install-test browser
	$(BIN)/python bench/page_weight.py
