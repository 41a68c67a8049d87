# folio: the two commands (make run, make test) and a few more. Thin wrapper over CMake.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
DEMO_DB ?= var/demo.db
DEMO_ROWS ?= 1000000
LISTEN ?= 127.0.0.1:8080
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build run test bench clean install uninstall

all: build

deps:
	tools/deps.sh build test

build/release/folio: deps-build FORCE
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF >/dev/null
	cmake --build build/release -j$(JOBS)

.PHONY: deps-build FORCE
deps-build:
	tools/deps.sh build
FORCE:

build: build/release/folio

# make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]: headers, libfolio.so.X.Y.Z (+ links),
# libfolio.a, folio.pc, the CMake package, bin/folio, folio(1), libfolio(3).
# make uninstall removes exactly the files the last install listed (install_manifest.txt).
install: deps-build
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build/release -j$(JOBS)
	DESTDIR="$(DESTDIR)" cmake --install build/release

uninstall:
	DESTDIR="$(DESTDIR)" cmake -DMANIFEST=build/release/install_manifest.txt -P cmake/uninstall.cmake

run: build/release/folio
	@mkdir -p $(dir $(DEMO_DB)) var/files
	@[ -f $(DEMO_DB) ] || build/release/folio demo $(DEMO_DB) --rows $(DEMO_ROWS)
	@[ -n "$$(ls -A var/files)" ] || for i in $$(seq -w 1 120); do echo "file $$i" > var/files/report-$$i.txt; done
	build/release/folio serve --config examples/tutorial/folio.toml $(DEMO_DB) --listen $(LISTEN)

test:
	tools/deps.sh build test
	cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DFOLIO_SANITIZE=ON >/dev/null
	cmake --build build/test -j$(JOBS)
	ctest --test-dir build/test --output-on-failure -j$(JOBS)

bench:
	tools/deps.sh build bench
	bench/run.sh
	bench/export.sh

clean:
	rm -rf build
