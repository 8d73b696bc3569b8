#!/bin/sh
# `make bench`: the ledger figures of docs/performance.md, from one run on this machine.
set -eu
cd "$(dirname "$0")/.."
exec build/bench/bench_ledger "$@"
