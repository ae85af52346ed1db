# The two front-door targets. Each installs what it needs first.
.PHONY: demo test install build bench

# `npm ci`: exactly the lock file (complete, optional platform binaries included), which it never rewrites.
node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	npm run build

demo: install
	npm run demo

# Each suite prints its own wall time, so growth is seen early.
test: install
	@start=$$(date +%s); npm run -s lint; rc=$$?; echo "[time] lint $$(( $$(date +%s) - start )) s"; exit $$rc
	@start=$$(date +%s); npm run -s lint:unused; rc=$$?; echo "[time] unused exports $$(( $$(date +%s) - start )) s"; exit $$rc
	@start=$$(date +%s); npm run typecheck; rc=$$?; echo "[time] typecheck $$(( $$(date +%s) - start )) s"; exit $$rc
	@start=$$(date +%s); npm test; rc=$$?; echo "[time] unit + integration + talos $$(( $$(date +%s) - start )) s"; exit $$rc
	@start=$$(date +%s); npm run test:e2e; rc=$$?; echo "[time] e2e (the world) $$(( $$(date +%s) - start )) s"; exit $$rc

bench: install
	npm run bench:config
