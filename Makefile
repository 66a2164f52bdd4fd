# Plain go commands are the interface; these targets only name them.
GO ?= go

.PHONY: run test check bench soak build fuzz

build: ## build ./updraft
	CGO_ENABLED=0 $(GO) build -o updraft ./cmd/updraft

run: ## run the server with the embedded store on 127.0.0.1:9321
	$(GO) run ./cmd/updraft server

# -parallel 4: the end-to-end tests that call t.Parallel spend their time
# waiting (servers starting, functions, the aws CLI), not computing; more
# than four at a time starved servers of CPU on a loaded 2-core machine.
test: ## vet, every test (unit, integration, end-to-end) with the race detector, benchmarks once, fuzz targets briefly
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m -parallel 4 ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./internal/...
	$(GO) test -count=1 -v -run '^TestConformanceScenarioCount$$' ./e2e | grep '^conformance:'
	bash .ci/fuzz

fuzz: ## every fuzz target for FUZZTIME each (default 3s), one at a time
	bash .ci/fuzz

check: ## formatting and vet
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet ./...

bench: ## the performance benchmark: ratios against a loopback HTTP floor
	$(GO) run ./bench

soak: ## the soak test (root): mixed load for 2 minutes while the server is killed, its disk filled, its connections exhausted; DURATION=10m for longer
	$(GO) run ./bench/soak -duration $(or $(DURATION),2m)
