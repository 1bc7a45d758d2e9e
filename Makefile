# Seaway: the two commands of the README, plus a few conveniences.
#   make run    install missing Debian packages, build, start the server on its defaults with
#               the demo feed (simulated machines) writing into database 'demo'
#   make test   install missing Debian packages, build, run every test (ends with ctest's summary)
#
# Other targets: build, asan, tsan, fuzz, format, format-check, clean.

PRESET ?= release
SEAWAY_ARGS ?= --demo

.PHONY: all deps build run test asan tsan fuzz format format-check clean

all: build

deps:
	@tools/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

run: build
	bin/seaway serve $(SEAWAY_ARGS)

test: build
	@ctest --preset $(PRESET)

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan

tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan
	@ctest --preset tsan

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz

format:
	@tools/check-format.sh --fix

format-check:
	@tools/check-format.sh

clean:
	rm -rf build bin/seaway
