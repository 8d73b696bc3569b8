#!/bin/bash
# Runs every test LEBEN has and ends with one summary line "N passed, N failed".
#   unit tests (build/tests), the same under ASan+UBSan (build/asan/tests),
#   integration tests (tests/integration/test_*: real processes, real HTTP),
#   the web app (web/test: node --test; tests/web/*.mjs: real node, Debian's Chromium),
#   the privacy attack suite (tests/privacy/run: every attack must recover 0 values),
#   a short run of every fuzz harness (build/fuzz) over its seed corpus.
# Every test program speaks TAP ("ok N - name" / "not ok N - name").
# Environment: CHECK_FUZZ_SECONDS (default 8), CHECK_ONLY=regex to run matching programs only,
#              FUZZ_ONLY=1 to run only the fuzzers.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export LEBEN_BIN="$ROOT/build/leben" LEBEN_ROOT="$ROOT" CMOCKA_MESSAGE_OUTPUT=TAP
FUZZ_SECONDS=${CHECK_FUZZ_SECONDS:-8}
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"
passed=0
failed=0
failures=()

# run_prog LABEL CMD... : run one TAP-speaking program and tally its results
run_prog() {
	local label=$1; shift
	if [ -n "${CHECK_ONLY:-}" ] && ! [[ $label =~ $CHECK_ONLY ]]; then return; fi
	local log="$LOGDIR/$(echo "$label" | tr '/ ' '__').log"
	local t0=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local ok nok
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
	if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
		if [ $rc -eq 0 ]; then ok=1; else nok=1; fi
	elif [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1 # crashed or failed after its last test
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	printf '%-48s %4d ok %3d failed  %3ds\n' "$label" "$ok" "$nok" $((SECONDS - t0))
	if [ "$nok" -gt 0 ]; then
		failures+=("$label (log: ${log#$ROOT/})")
		grep '^not ok' "$log" | head -20 | sed 's/^/    /'
		[ $rc -ne 0 ] && tail -n 15 "$log" | sed 's/^/    | /'
	fi
}

run_fuzz() {
	local bin=$1 name
	name=$(basename "$bin")
	local seeds="$ROOT/tests/fuzz/corpus/${name#fuzz_}"
	local work
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$LOGDIR/$name-" "$work"
	local rc=$?
	rm -rf "$work"
	return $rc
}

if [ -z "${FUZZ_ONLY:-}" ]; then
	for t in build/tests/test_*; do [ -x "$t" ] && run_prog "unit/$(basename "$t")" "$t"; done
	for t in build/asan/tests/test_*; do
		[ -x "$t" ] && ASAN_OPTIONS=detect_leaks=1 run_prog "asan/$(basename "$t")" "$t"
	done
	for t in tests/integration/test_*; do [ -x "$t" ] && run_prog "integration/$(basename "$t")" "$t"; done
	# the web app: its encoders against the C ones, then each workflow in Debian's Chromium
	[ -d web/test ] && run_prog "web/unit" node --test --test-reporter=tap web/test/
	for t in tests/web/*.mjs; do [ -x "$t" ] && run_prog "web/$(basename "$t" .mjs)" node "$t"; done
	[ -x tests/privacy/run ] && run_prog "privacy/run" tests/privacy/run
fi
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] && [ "${f%.d}" = "$f" ] && run_prog "fuzz/$(basename "$f")" run_fuzz "$f"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
