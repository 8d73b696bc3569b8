#!/bin/sh
# `make bench-soak`: keep a steady load on a real `leben node` for SOAK_SECONDS (default 600)
# and sample its resident memory every SOAK_SAMPLE seconds (default 5); prints first, last
# and peak RSS and the slope. SOAK_RATE sets the load in txs/s (default 2000).
set -eu
cd "$(dirname "$0")/.."
export LEBEN_BIN="${LEBEN_BIN:-$PWD/build/leben}"
SOAK_SECONDS="${SOAK_SECONDS:-600}" exec build/bench/bench_node
