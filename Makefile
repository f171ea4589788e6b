# devloop — the two commands the README gives, and their parts.
SHELL := /bin/bash
GO ?= go

.PHONY: demo test test-short vet build testbed-up testbed-down

## demo: bring the test bed up and run devloop on examples/flask-redis
demo:
	hack/demo.sh

## test: everything CI runs — install, test bed up, unit + integration + fuzz, test bed down, host left as found
test:
	hack/test.sh

## test-short: unit tests only, no test bed
test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

build:
	$(GO) build -o bin/devloop ./cmd/devloop

testbed-up:
	hack/testbed/testbed up

testbed-down:
	hack/testbed/testbed down
