#!/bin/sh
# `make bench`: the ledger figures of docs/performance.md, from one run on this machine.
#   1. bench_ledger: in-process submit + solo orderer + commit, with the Ed25519 reference;
#   2. bench_node: a real `leben node` process fed through POST /v1/txs over a socket,
#      its peak resident memory and database bytes per committed tx.
# Each prints the verification reference it measured itself, so the ratios hold even when
# the machine is busy. The memory-flatness run is `make bench-soak` (10 minutes).
set -eu
cd "$(dirname "$0")/.."
export LEBEN_BIN="${LEBEN_BIN:-$PWD/build/leben}"
build/bench/bench_ledger "$@"
echo
build/bench/bench_node
