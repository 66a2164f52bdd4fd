# Plain go commands are the interface; these targets only name them.
GO ?= go

.PHONY: run test check bench soak build fuzz node-sdk

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

# The AWS SDK for JavaScript v3 clients nodejs functions may import without
# shipping them (Lambda's nodejs18.x and later include the whole SDK): the
# services updraft serves. NODE_SDK_DIR must be under /usr (the sandbox
# shows the host's /usr) and match the server's --node-sdk-dir.
NODE_SDK_DIR ?= /usr/local/lib/updraft/nodejs
NODE_SDK_PACKAGES ?= @aws-sdk/client-lambda @aws-sdk/client-sts @aws-sdk/client-iam \
	@aws-sdk/client-dynamodb @aws-sdk/lib-dynamodb @aws-sdk/client-dynamodb-streams \
	@aws-sdk/client-sqs @aws-sdk/client-kinesis @aws-sdk/client-sfn

node-sdk: ## install the AWS SDK for JavaScript v3 for nodejs functions (npm registry) in NODE_SDK_DIR
	mkdir -p $(NODE_SDK_DIR)
	cd $(NODE_SDK_DIR) && npm install --no-audit --no-fund --omit=dev $(NODE_SDK_PACKAGES)
	chmod -R a+rX $(NODE_SDK_DIR)
