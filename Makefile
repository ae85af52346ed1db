# The two front-door targets. Each installs what it needs first.
.PHONY: demo test install build bench

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	npm run build

demo: install
	npm run demo

test: install
	npm run typecheck
	npm test

bench: install
	npm run bench:config
