#!/bin/sh
# make bench-monitor: chronic-disease monitoring through a real node's API (docs/performance.md)
exec python3 "$(dirname "$0")/../bench/bench_monitor.py" "$@"
