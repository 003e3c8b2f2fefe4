# The two commands of the quick start: `make run` and `make test`.
GO ?= go
ARGS ?=
CLIENT := static/vendor/socket.io.js

.PHONY: run build test test-go test-js bench deps clean

run: $(CLIENT)
	$(GO) run ./cmd/broadcast $(ARGS)

build: $(CLIENT)
	$(GO) build -o bin/broadcast ./cmd/broadcast

# Installs the pinned npm packages and puts the socket.io client where the
# binary embeds it from.
$(CLIENT): package-lock.json
	npm ci --no-audit --no-fund
	cp node_modules/socket.io-client/dist/socket.io.js $@

deps: $(CLIENT)

test: test-go test-js

test-go: $(CLIENT)
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Protocol tests with the real socket.io-client and browser tests with
# Debian's chromium (scripts/install-test-deps.sh installs it).
test-js: build
	npm test

bench: $(CLIENT)
	$(GO) test -run '^$$' -bench . -benchmem ./signaling/

clean:
	rm -rf bin node_modules $(CLIENT)
