#!/bin/bash
# make bench-knowledge: the knowledge engine and verifier (build/bench/bench_knowledge), and
# the same sepsis risk logic as hand-written ELM run by the JavaScript CQL engine
# cql-execution (tests/oracles/sepsis_cql.js), after checking both give the same risk classes
# on the contract's scenario inputs, and the speed ratios. The reference runs just before and
# just after the engine, and the ratios use the mean of the two, so that a change of load on
# a shared machine during the run weighs on both sides alike.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export LEBEN_ROOT=$PWD
have_js=1
if ! command -v node >/dev/null || [ ! -d tests/oracles/node_modules/cql-execution ]; then
	have_js=0
fi
if [ $have_js = 1 ]; then
	js1=$(node tests/oracles/sepsis_cql.js 2) || exit 1
fi
out=$("$B/bench/bench_knowledge") || exit 1
echo "$out"
if [ $have_js = 0 ]; then
	echo "cql-execution: not installed (scripts/deps.sh --test installs it); comparison skipped"
	exit 0
fi
js2=$(node tests/oracles/sepsis_cql.js 2) || exit 1
# the contract's scenarios give high, low, high, moderate for these inputs; the fifth
# (qSOFA 2 from respiratory rate and blood pressure) is high
want="cql-execution results: high low high moderate high"
for js in "$js1" "$js2"; do
	if [ "$(echo "$js" | head -1)" != "$want" ]; then
		echo "cql-execution disagrees with the contract: $(echo "$js" | head -1)"
		exit 1
	fi
done
echo "$js1" | head -1
echo "$js1" | tail -n +2 | sed 's/^/before: /'
echo "$js2" | tail -n +2 | sed 's/^/after:  /'
c=$(echo "$out" | sed -n 's/.*(no trace) in .* = \([0-9]*\) executions.*/\1/p')
t=$(echo "$out" | sed -n 's/.*(with trace) in .* = \([0-9]*\) executions.*/\1/p')
r=$(echo "$out" | sed -n 's/.*(with trace read as JSON) in .* = \([0-9]*\) executions.*/\1/p')
j1=$(echo "$js1" | sed -n 's/.* = \([0-9]*\) executions\/s/\1/p')
j2=$(echo "$js2" | sed -n 's/.* = \([0-9]*\) executions\/s/\1/p')
awk -v c="$c" -v t="$t" -v r="$r" -v j1="$j1" -v j2="$j2" 'BEGIN { j = (j1 + j2) / 2;
	printf "speed-up over cql-execution (mean %.0f executions/s): %.1fx without trace, %.1fx with the full trace, %.1fx with the trace read as JSON lines\n", j, c / j, t / j, r / j }'
# PROformajs enactment speed beside LEBEN's PROformajs enactment (same generated protocols and
# answer sequences as tests/integration/test_knowledge_diff)
if [ -d tests/oracles/node_modules/@openclinical/proformajs ] && [ -x "$B/tests/proforma_trace" ]; then
	(cd tests/oracles && node proforma_bench.mjs "../../$B/tests/proforma_trace" 300 5) || exit 1
else
	echo "@openclinical/proformajs or $B/tests/proforma_trace missing (scripts/deps.sh --test; make unit): PROformajs comparison skipped"
fi
# the verifier under the PROformajs rules: exploration speed on the example JSON contracts
if [ -x "$B/tests/proforma_trace" ]; then
	"$B/tests/proforma_trace" --explore-bench $(ls examples/contracts/*.json | grep -v scenarios.json) || exit 1
fi
