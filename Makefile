.PHONY: test test-fast deps

# The README's test command: installs what the tests need (TeX Live, torch CPU, extras), then runs them all.
test: deps
	python3 -m pytest -q

# Everyday work, once `make deps` has run: the suite without the tests marked slow (under two minutes).
test-fast:
	python3 -m pytest -q -m "not slow"

deps:
	bash scripts/install-deps.sh
