#!/bin/sh
# make bench-web: the web app's first-load bytes and the explorer's time to interactive on a
# node with BENCH_WEB_TXS txs (default 100000), in Debian's Chromium (tests/web/bench.mjs).
set -eu
cd "$(dirname "$0")/.."
exec node tests/web/bench.mjs
