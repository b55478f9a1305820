#!/bin/sh
# make bench: every benchmark, each printed next to its floor measured in the
# same run. Build with `make` first (the Makefile does).
set -eu
cd "$(dirname "$0")/../.."
for bench in tests/bench/bench_*.py; do
    echo "== $bench"
    /usr/bin/python3 "$bench"
done
