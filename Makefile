# sjq — build, test and install. On a fresh clone `make` gives ./sjq: when no
# Deno 2.9+ is on PATH, the pinned one is installed into .deno/ from the npm
# registry first.

DENO_VERSION := 2.9.6
LOCAL_DENO := .deno/node_modules/deno/deno
DENO := $(shell if command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | \
	awk 'NR==1 { split($$2, v, "."); exit !(v[1] > 2 || (v[1] == 2 && v[2] >= 9)) }'; \
	then command -v deno; else echo $(LOCAL_DENO); fi)

.PHONY: all test check fmt build install bench bench-quick bench-arrays bench-slurm clean deno fuzz bench-startup

all: build

deno: $(DENO)

$(LOCAL_DENO):
	mkdir -p .deno
	echo '{"private": true, "dependencies": {"deno": "$(DENO_VERSION)"}}' > .deno/package.json
	cd .deno && npm install --no-audit --no-fund --loglevel=error
	# npm may skip the postinstall that links the platform binary into place.
	@if ! $(LOCAL_DENO) --version >/dev/null 2>&1; then \
		cp .deno/node_modules/@deno/linux-*/deno $(LOCAL_DENO); fi
	$(LOCAL_DENO) --version

## test: the whole suite (unit tests beside the code, end-to-end tests in tests/)
test: $(DENO)
	$(DENO) test -A --parallel

## fuzz: the protocol fuzzer for FUZZ_INPUTS mutated requests (default 100000; FUZZ_SEED to repeat a run)
FUZZ_INPUTS ?= 100000
fuzz: $(DENO)
	$(DENO) run -A tests/fuzz.ts $(FUZZ_INPUTS) $(FUZZ_SEED)

## check: formatting, lint and type check
check: $(DENO)
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check main.ts src tests bench

fmt: $(DENO)
	$(DENO) fmt

## build (the default): ./sjq, compiled by `deno compile` where Deno can get its
## runtime (downloaded, or DENORT_BIN), otherwise a launcher of these sources (build.sh)
build: $(DENO)
	$(if $(DENORT_BIN),DENORT_BIN=$(DENORT_BIN)) DENO=$(DENO) ./build.sh sjq

## install: ./sjq (either kind) into $(PREFIX)/bin (see install.sh)
install: sjq
	./install.sh

sjq:
	$(MAKE) build

## bench: the full benchmark (see docs/benchmarks.md); bench-quick: about a minute
bench: $(DENO)
	DENO=$(DENO) bench/run.sh full

bench-quick: $(DENO)
	DENO=$(DENO) bench/run.sh quick

## bench-startup: client start-up (submit, ping, status) beside an empty deno run (hyperfine)
bench-startup: $(DENO)
	$(DENO) run -A bench/startup.ts

## bench-slurm: the Slurm backend's submit→start and end→seen latencies beside plain sbatch
bench-slurm: $(DENO)
	$(DENO) run -A bench/slurm_latency.ts

## bench-arrays: one SUBMIT of a 100,000-task array against plain jobs (docs/benchmarks.md)
bench-arrays: $(DENO)
	$(DENO) run -A bench/arrays.ts

clean:
	rm -rf sjq .deno
