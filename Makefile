.PHONY: test deps

# The README's test command: installs what the tests need (TeX Live, torch CPU, extras), then runs them.
test: deps
	python3 -m pytest -q

deps:
	bash scripts/install-deps.sh
