#!/bin/bash
# make bench-knowledge: the knowledge engine and verifier (build/bench/bench_knowledge), then
# the same sepsis risk logic as hand-written ELM run by the JavaScript CQL engine
# cql-execution (tests/oracles/sepsis_cql.js), after checking both give the same risk classes
# on the contract's scenario inputs, and the speed ratio.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export LEBEN_ROOT=$PWD
out=$("$B/bench/bench_knowledge") || exit 1
echo "$out"
if ! command -v node >/dev/null || [ ! -d tests/oracles/node_modules/cql-execution ]; then
	echo "cql-execution: not installed (scripts/deps.sh --test installs it); comparison skipped"
	exit 0
fi
js=$(node tests/oracles/sepsis_cql.js 2) || exit 1
echo "$js"
# the contract's scenarios give high, low, high, moderate for these inputs; the fifth
# (qSOFA 2 from respiratory rate and blood pressure) is high
want="cql-execution results: high low high moderate high"
if [ "$(echo "$js" | head -1)" != "$want" ]; then
	echo "cql-execution disagrees with the contract: $(echo "$js" | head -1)"
	exit 1
fi
c=$(echo "$out" | sed -n 's/.*(no trace) in .* = \([0-9]*\) executions.*/\1/p')
t=$(echo "$out" | sed -n 's/.*(with trace) in .* = \([0-9]*\) executions.*/\1/p')
r=$(echo "$out" | sed -n 's/.*(with trace read as JSON) in .* = \([0-9]*\) executions.*/\1/p')
j=$(echo "$js" | sed -n 's/.* = \([0-9]*\) executions\/s/\1/p')
awk -v c="$c" -v t="$t" -v r="$r" -v j="$j" 'BEGIN { printf "speed-up over cql-execution: %.1fx without trace, %.1fx with the full trace, %.1fx with the trace read as JSON lines\n", c / j, t / j, r / j }'
