# The two front-door targets. Each installs what it needs first.
.PHONY: demo test install build bench

# `npm install` (which follows package-lock.json) rather than `npm ci`: on registry mirrors that do not
# list every platform's optional binaries, npm ci rejects an otherwise complete lock file.
node_modules/.install-stamp: package.json package-lock.json
	npm install --no-audit --no-fund
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
