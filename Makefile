# make test: install the external programs the tests use (when possible),
# then run every test with the race detector.
GO ?= go

.PHONY: test test-deps bench build fuzz profile

# Test artifacts (the status page screenshot) land in artifacts/. The race
# detector swaps breaker's per-processor counters for atomic ones, so the
# plain counters that the benchmarks measure get a run of their own.
test: test-deps
	@mkdir -p artifacts
	$(GO) test -race -count=1 -artifacts -outputdir $(CURDIR)/artifacts ./...
	$(GO) test -count=1 ./breaker

# Installs promtool, chromium, redis-server and redis-cli from Debian packages when
# they are missing and we are root; otherwise the tests that need them skip
# (or fail under BREAKERD_REQUIRE_EXTERNAL=1).
test-deps:
	@bash scripts/install-test-deps.sh

build:
	$(GO) build -o bin/breakerd ./cmd/breakerd

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./breaker

# CPU and allocation profiles of breakerd serving PROFILE_RATE req/s (the
# load run of bench/load, through serve --pprof), written to
# artifacts/profile, then the top of each. See BENCHMARKS.md, "Where the
# CPU goes".
PROFILE_RATE ?= 1000
PROFILE_DURATION ?= 20s
profile:
	@mkdir -p artifacts/profile
	cd bench/load && $(GO) run . -rate $(PROFILE_RATE) -duration $(PROFILE_DURATION) -slice 200ms -max-duration 2s -profile $(CURDIR)/artifacts/profile
	$(GO) tool pprof -top -nodecount 25 artifacts/profile/cpu.pprof
	$(GO) tool pprof -sample_index=alloc_objects -top -nodecount 25 -base artifacts/profile/allocs-base.pprof artifacts/profile/allocs.pprof

# Every parser of outside input has a fuzz target; make fuzz runs each for
# FUZZTIME (CI: a few seconds each; their seed corpora, and any crash
# found and saved under testdata/fuzz, also run in every go test).
FUZZTIME ?= 30s
FUZZ_TARGETS = \
	./breaker:FuzzCountsAddUp \
	./config:FuzzParse ./config:FuzzEnvReferences \
	./provider:FuzzParseRetryAfter ./provider:FuzzSSEStreams ./provider:FuzzAnthropicTranslation ./provider:FuzzFields ./provider:FuzzValidJSON ./provider:FuzzReadMeta ./provider:FuzzEncryptedMarks ./provider:FuzzMultipartModel ./provider:FuzzBatchLineModel ./provider:FuzzBatchModelsForm ./provider:FuzzLeadingFields ./provider:FuzzSchemasFitted ./provider:FuzzResponsesTranslation \
	./dialect:FuzzRequestTranslation ./dialect:FuzzAnswerTranslation \
	./gateway:FuzzParseRequest ./gateway:FuzzEstimateTokens ./admin:FuzzAdminPaths \
	./complexity:FuzzClassifyAgreesWithTheReference

fuzz:
	@GO=$(GO) bash scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)
