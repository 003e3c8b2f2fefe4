# The two commands of the quick start: `make run` and `make test`.
GO ?= go
ARGS ?=
CLIENT := static/vendor/socket.io.js

.PHONY: run build test test-go test-js test-compose test-deps bench fuzz deps clean

run: $(CLIENT)
	$(GO) run ./cmd/broadcast $(ARGS)

build: $(CLIENT)
	$(GO) build -o bin/broadcast ./cmd/broadcast

# The pinned npm packages, and the socket.io client copied where the binary
# embeds it from.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

$(CLIENT): node_modules/.package-lock.json
	cp node_modules/socket.io-client/dist/socket.io.js $@

deps: $(CLIENT)

test: test-go test-js test-compose

test-go: $(CLIENT) test-deps
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "not gofmt'd: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Protocol tests with the real socket.io-client and page tests in Debian's
# chromium, which test-deps installs if it is missing.
test-js: build test-deps
	npm test

# docker-compose.yml and its Dockerfile, validated without a Docker engine.
# The file requires its secrets; placeholders stand in for the check.
test-compose: test-deps
	env TURN_SECRET=ci REDIS_PASSWORD=ci RELAY_PUBLIC_IP=192.0.2.1 docker-compose -f docker-compose.yml config -q

test-deps:
	scripts/install-test-deps.sh

bench: $(CLIENT)
	$(GO) test -run '^$$' -bench . -benchmem ./signaling/ ./cluster/ ./relay/

# Inputs per target. A count, not a duration: Go 1.26's fuzzing coordinator
# can fail a target with "context deadline exceeded" when a -fuzztime
# duration ends on a loaded machine (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 300000x
SIGNALING_FUZZ := FuzzInboundFrame FuzzClientAddr FuzzMessage FuzzParseEnter FuzzValidRoomName FuzzCheckWatch
CODEC_FUZZ := FuzzSPSSize FuzzKeyframe FuzzAVCNALs FuzzKeyframePacket
RELAY_FUZZ := FuzzHandleRTCP FuzzLayerChoice
WHIP_FUZZ := FuzzParseFragment FuzzCheckOffer
fuzz: $(CLIENT)
	for f in $(SIGNALING_FUZZ); do $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./signaling/ || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./signaling/sioclient/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMessage$$' -fuzztime $(FUZZTIME) ./cluster/
	for f in $(CODEC_FUZZ); do $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./internal/codec/ || exit 1; done
	for f in $(RELAY_FUZZ); do $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./relay/ || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzUpdate$$' -fuzztime $(FUZZTIME) ./relay/simulcast/
	for f in $(WHIP_FUZZ); do $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./whip/ || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzParseName$$' -fuzztime $(FUZZTIME) ./recording/

clean:
	rm -rf bin node_modules $(CLIENT)
