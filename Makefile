# hotline — common tasks. `make test` is what CI runs (through .ci/run).
GO        ?= go
# A count, not a duration: go1.26's fuzz coordinator can fail a duration-bounded run
# with "context deadline exceeded" and no crasher when the machine is busy
# (golang/go#75804, fixed in go1.27).
FUZZTIME  ?= 3000x
PKGS      := ./...

.PHONY: deps run test check vet fmt-check unit fuzz bench bench-load bench-agents soak prompts build vendor-uplot

## run: the built-in demo (SIP 127.0.0.1:5060 udp+tcp, HTTP 127.0.0.1:8080, SQLite under ./data)
run:
	$(GO) run ./cmd/hotline serve

build:
	$(GO) build -o bin/hotline ./cmd/hotline

## test: everything CI checks: formatting, vet, the race-enabled suite, short fuzz runs
test: deps fmt-check vet unit fuzz

## deps: install SIPp, baresip and PostgreSQL from Debian when missing
deps:
	bash .ci/deps

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## unit: the suite, one package at a time (-p 1): the end-to-end tests time real audio, so they get the CPU
unit:
	$(GO) test -race -count=1 -p 1 -timeout 25m $(PKGS)

## fuzz: every Fuzz target for $(FUZZTIME) executions, seeded from its checked-in corpus
fuzz:
	@set -e; for f in $$(git grep -l '^func Fuzz' -- '*_test.go'); do \
	  dir=./$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "fuzz $$dir $$t"; \
	    $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$dir; \
	  done; \
	done

## bench: micro-benchmarks (media hot path, IVR, store)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

## bench-load: SIPp load run (needs root and sip-tester): CALLS callers (default 1,000) at most CONCURRENCY
## at once, 100 new/s, each streams PCMU, dials 1 1 # into the support queue and holds 27 s (all up
## together for over 20 s at 1,000); first against `hotline serve`, then against SIPp's -rtp_echo UAS;
## prints one side-by-side table (CPU, memory, pacing, failures, the ratios) and where the memory per call
## is. PROFILE=DIR saves the hotline's heap, goroutine and CPU profiles at full load there; STORE=postgres
## keeps the hotline's records on a private PostgreSQL server (the postgresql package) instead of SQLite
CALLS       ?= 1000
CONCURRENCY ?= $(CALLS)
PROFILE     ?=
STORE       ?= sqlite
bench-load:
	$(GO) run ./internal/loadrun -go $(GO) -calls $(CALLS) -concurrency $(CONCURRENCY) -rate 100 -hold 27s -timeout 6m $(if $(PROFILE),-profile $(abspath $(PROFILE))) $(if $(filter postgres,$(STORE)),-postgres)

## bench-agents: SIPp callers ⇄ hotline ⇄ pure-Go WebRTC agents (needs root and sip-tester): 300 calls
## bridged at once, audio both ways; prints calls completed, send-interval p99 on both legs (the agent leg
## from a loopback packet capture), accept → two-way audio (median, p99), CPU and memory. Every call is
## recorded (RECORD=off for the same run without recording). SUPERVISORS=20 MONITOR=20: 20 supervisors watch
## the wallboard (push latency median / p99 in the report) and 20 of them each listen to one live call
RECORD      ?= bridged
SUPERVISORS ?= 0
MONITOR     ?= 0
bench-agents:
	$(GO) run ./internal/agentload -go $(GO) -calls 300 -rate 30 -hold 35s -timeout 5m -record $(RECORD) \
		-supervisors $(SUPERVISORS) -monitor $(MONITOR)

## soak: the hotline under cycling load for DURATION (default 1h; not in CI, needs root and sip-tester):
## at most SOAK_CALLS (default 300) SIPp callers at once, 10 new/s, each as in bench-load but holding 27 s;
## goroutines, open descriptors, RSS and heap read every SOAK_EVERY (default 1m); prints the table and
## "flat" or what grew, and fails on a failed call or a leak
DURATION   ?= 1h
SOAK_CALLS ?= 300
SOAK_EVERY ?= 1m
soak:
	$(GO) run ./internal/loadrun -go $(GO) -soak $(DURATION) -soak-every $(SOAK_EVERY) -concurrency $(SOAK_CALLS) -rate 10 -hold 27s

## prompts: regenerate the demo prompts (espeak-ng, sox) and hold music
prompts:
	sh internal/demo/gen/prompts.sh
	$(GO) generate ./internal/demo

## vendor-uplot: fetch the pinned uPlot (MIT) from npm into internal/web/static/vendor/uplot (checked in,
## so building needs no npm): the minified IIFE build, its CSS and its licence
UPLOT_VERSION ?= 1.6.32
UPLOT_DIR     := internal/web/static/vendor/uplot
vendor-uplot:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  npm pack --silent --pack-destination "$$tmp" uplot@$(UPLOT_VERSION) >/dev/null; \
	  tar -xzf "$$tmp/uplot-$(UPLOT_VERSION).tgz" -C "$$tmp" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE; \
	  mkdir -p $(UPLOT_DIR); \
	  cp "$$tmp/package/dist/uPlot.iife.min.js" "$$tmp/package/dist/uPlot.min.css" $(UPLOT_DIR)/; \
	  cp "$$tmp/package/LICENSE" $(UPLOT_DIR)/LICENSE; \
	  echo "uPlot $(UPLOT_VERSION) in $(UPLOT_DIR)"
