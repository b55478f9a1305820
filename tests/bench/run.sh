#!/bin/sh
# make bench: every benchmark, each printed next to its floor measured in the
# same run. Build with `make` first (the Makefile does). bench_100k.py is
# `make bench-100k` of its own (about 10 minutes, raised descriptor limits).
set -eu
cd "$(dirname "$0")/../.."
for bench in tests/bench/bench_*.py; do
    case "$bench" in
    */bench_100k.py) continue ;;
    esac
    echo "== $bench"
    /usr/bin/python3 "$bench"
done
