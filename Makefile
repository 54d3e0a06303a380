# Sotto — two commands matter: `make run` and `make test`. Each installs what
# it needs first (scripts/deps.sh: apt-get as root, sudo otherwise, nothing
# when everything is present).

export PATH := $(PATH):/usr/local/go/bin
GO        ?= go
BIN       := build/sotto
VERSION   := $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: run build test deps deps-test screenshot bench fuzz dist dist-windows demo clean

run: build
	./$(BIN) $(ARGS)

build: deps
	. scripts/goenv.sh && $(GO) build -tags "$$SOTTO_TAGS" -ldflags "$(LDFLAGS)" -o $(BIN) .

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

test: deps-test
	@scripts/test.sh

screenshot: deps-test build
	@scripts/screenshot.sh

bench: deps-test
	@scripts/bench.sh

fuzz: deps-test
	@scripts/fuzz.sh $(FUZZTIME)

dist:
	@scripts/deps.sh dist
	@scripts/dist.sh linux

dist-windows:
	@scripts/deps.sh dist
	@scripts/dist.sh windows

demo: deps-test build
	@scripts/demo.sh

clean:
	rm -rf build dist screenshots
