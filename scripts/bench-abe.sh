#!/bin/bash
# make bench-abe: LEBEN's BLS12-381 pairing (build/bench/bench_abe) next to the npm libraries
# mcl-wasm and, where its package brings a native build for this machine, @chainsafe/blst
# (tests/oracles/bls12_381_bench.mjs), in one run, with the ratio to the fastest. The npm side
# runs just before and just after LEBEN, and the ratios use the mean of the two, so that a
# change of load on a shared machine weighs on both sides alike.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export LEBEN_ROOT=$PWD
have_js=1
if ! command -v node >/dev/null || [ ! -d tests/oracles/node_modules/mcl-wasm ]; then
	have_js=0
fi
[ $have_js = 1 ] && { js1=$(node tests/oracles/bls12_381_bench.mjs) || exit 1; }
ours=$("$B/bench/bench_abe") || exit 1
[ $have_js = 1 ] && { js2=$(node tests/oracles/bls12_381_bench.mjs) || exit 1; }
get() { echo "$1" | awk -v n="$2" -v o="$3" '$1 == n && $2 == o { print $3 }'; }
echo "BLS12-381 (microseconds of CPU time per operation, this machine, one core)"
echo "$ours" | awk '$1 == "leben" { printf "  %-12s %10.1f\n", $2, $3 }' | grep -v '^  abe'
if [ $have_js = 0 ]; then
	echo "mcl-wasm / @chainsafe/blst: not installed (scripts/deps.sh --test installs them); comparison skipped"
else
	echo
	printf '  %-10s %12s %12s %12s   %s\n' operation LEBEN mcl-wasm blst "LEBEN / fastest"
	for op in pairing verify; do
		l=$(get "$ours" leben $op)
		m=$(awk -v a="$(get "$js1" mcl-wasm $op)" -v b="$(get "$js2" mcl-wasm $op)" 'BEGIN { if (a != "" && b != "") printf "%.1f", (a + b) / 2 }')
		s=$(awk -v a="$(get "$js1" blst $op)" -v b="$(get "$js2" blst $op)" 'BEGIN { if (a != "" && b != "") printf "%.1f", (a + b) / 2 }')
		awk -v op=$op -v l="$l" -v m="$m" -v s="$s" 'BEGIN {
			f = l; who = "LEBEN"
			if (m != "" && m < f) { f = m; who = "mcl-wasm" }
			if (s != "" && s < f) { f = s; who = "blst" }
			printf "  %-10s %12.1f %12s %12s   %.2fx (fastest: %s)\n", op, l, m == "" ? "-" : m, s == "" ? "n/a" : s, l / f, who
		}'
	done
	echo "$js1" | grep unavailable
	echo "  (blst's binding has no raw pairing: its row is verify, a hash to G2 and a two-pair product)"
fi
echo
echo "CP-ABE (Waters 2011 on the pairing above; milliseconds of CPU time; policies over n"
echo "attributes: AND of all, n/2 of n, OR of all; the key holds all n)"
printf '  %-4s %10s %12s %12s %12s %12s %12s %12s\n' n keygen "enc AND" "dec AND" "enc n/2" "dec n/2" "enc OR" "dec OR"
for n in 5 20 50; do
	printf '  %-4s' $n
	for op in keygen-$n encrypt-$n-and decrypt-$n-and encrypt-$n-half decrypt-$n-half encrypt-$n-or decrypt-$n-or; do
		v=$(get "$ours" leben abe-$op)
		w=12; [ $op = keygen-$n ] && w=10
		printf " %${w}.1f" "$(awk -v v="$v" 'BEGIN { print v / 1000 }')"
	done
	echo
done
