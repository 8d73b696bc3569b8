#!/bin/bash
# Runs every test LEBEN has and ends with one summary line "N passed, N failed".
#   unit tests (build/tests), the same under ASan+UBSan (build/asan/tests),
#   integration tests (tests/integration/test_*: real processes, real HTTP),
#   the web app (web/test: node --test; tests/web/*.mjs: real node, Debian's Chromium),
#   the privacy attack suite (tests/privacy/run: every attack must recover 0 values),
#   a short run of every fuzz harness (build/fuzz) over its seed corpus.
# Every test program speaks TAP ("ok N - name" / "not ok N - name").
# Programs run several at a time, one line each as it finishes (its log in build/test-logs):
#   unit, asan and fuzz programs (CPU-bound) up to nproc at a time, the integration, web and
#   privacy programs (they mostly wait on processes, blocks and sockets) up to CHECK_JOBS at a
#   time, then the programs that must run alone (CHECK_ALONE), one by one with nothing beside.
# Environment: CHECK_FUZZ_SECONDS (default 8), CHECK_ONLY=regex to run matching programs only,
#              FUZZ_ONLY=1 to run only the fuzzers, CHECK_JOBS=N programs at a time (default
#              nproc + 1; 1 runs everything one by one), CHECK_ALONE=regex of the labels that
#              run alone (default below: timing-sensitive or machine-loading programs).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export LEBEN_BIN="$ROOT/build/leben" LEBEN_ROOT="$ROOT" CMOCKA_MESSAGE_OUTPUT=TAP
FUZZ_SECONDS=${CHECK_FUZZ_SECONDS:-8}
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"
NPROC=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
JOBS=${CHECK_JOBS:-$((NPROC + 1))}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "check.sh: CHECK_JOBS must be a number >= 1" >&2; exit 2; }
CPU_JOBS=$((JOBS < NPROC ? JOBS : NPROC))
# kill -9 cycles under load, the consortium fault scenario, the privacy suite (its timing
# oracles read block times) and the sandbox's instruction-cap test (a run stopped within 3 s):
# nothing else runs beside them
ALONE=${CHECK_ALONE-'^(integration/test_node_crash\.py|integration/test_fault_short|privacy/run|(unit|asan)/test_exchange_privacy_agg)$'}
# the longest programs of their group (about a minute or more alone on 2 cores) start first,
# so the group does not end waiting on one of them
FIRST='/test_(market_econ|crypto_ed25519_batch|data_imgsig|crypto_abe|order_etcd|data_dicom|study_nodes\.py|consortium_ca_rotate\.py|abe_private|cohort_nodes\.py|roles\.py|cohort_local\.py|knowledge_diff|consortium_member\.py|exchange\.py)$'
passed=0
failed=0
failures=()
STATE=$(mktemp -d "${TMPDIR:-/tmp}/leben-check.XXXXXX")
declare -A running=()   # pid -> label of the programs running now
cleanup() {   # on an early exit: stop the programs still running (by pid) and their children
	local pid
	for pid in "${!running[@]}"; do
		pkill -TERM -P "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log_of() { echo "$LOGDIR/$(echo "$1" | tr '/ ' '__').log"; }

# report LABEL RC SECONDS: tally a finished program's TAP log and print its line
report() {
	local label=$1 rc=$2 secs=$3 log ok nok
	log=$(log_of "$label")
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
	if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
		if [ "$rc" -eq 0 ]; then ok=1; else nok=1; fi
	elif [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1 # crashed or failed after its last test
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	printf '%-48s %4d ok %3d failed  %3ds\n' "$label" "$ok" "$nok" "$secs"
	if [ "$nok" -gt 0 ]; then
		failures+=("$label (log: ${log#$ROOT/})")
		grep '^not ok' "$log" | head -20 | sed 's/^/    /'
		[ "$rc" -ne 0 ] && tail -n 15 "$log" | sed 's/^/    | /'
	fi
}

# reap: report every running program that has finished; returns 1 if none had
reap() {
	local pid label res any=1
	for pid in "${!running[@]}"; do
		label=${running[$pid]}
		res="$STATE/$pid"
		[ -s "$res" ] || continue
		wait "$pid" 2>/dev/null
		unset "running[$pid]"
		report "$label" $(cat "$res")
		any=0
	done
	return $any
}

# wait_slots N: wait until fewer than N programs run
wait_slots() {
	while [ ${#running[@]} -ge "$1" ]; do reap || sleep 0.2; done
}

# start LABEL CMD...: run one TAP-speaking program in the background (its own log; the
# result file holds "rc seconds")
start() {
	local label=$1; shift
	local log
	log=$(log_of "$label")
	(
		trap - INT QUIT TERM
		t0=$SECONDS
		"$@" </dev/null >"$log" 2>&1
		rc=$?
		echo "$rc $((SECONDS - t0))" >"$STATE/$BASHPID.tmp"
		mv "$STATE/$BASHPID.tmp" "$STATE/$BASHPID"
	) &
	running[$!]=$label
}

selected() { [ -z "${CHECK_ONLY:-}" ] || [[ $1 =~ $CHECK_ONLY ]]; }

QL=() QC=()   # the queued programs: labels, commands
# queue LABEL CMD...: add a program (the command as a quoted string run by run_queue)
queue() {
	local label=$1; shift
	selected "$label" || return 0
	QL+=("$label")
	QC+=("$(printf '%q ' "$@")")
}

# run_queue N: run the queued programs, N at a time, the FIRST ones first (the CHECK_ALONE
# ones afterwards, each alone), then empty the queue
run_queue() {
	local n=$1 i alone=() first=() rest=()
	for i in "${!QL[@]}"; do
		if [ -n "$ALONE" ] && [[ ${QL[$i]} =~ $ALONE ]]; then alone+=("$i")
		elif [[ ${QL[$i]} =~ $FIRST ]]; then first+=("$i")
		else rest+=("$i"); fi
	done
	for i in "${first[@]}" "${rest[@]}"; do
		wait_slots "$n"
		start "${QL[$i]}" eval "${QC[$i]}"
	done
	wait_slots 1
	for i in "${alone[@]}"; do
		start "${QL[$i]}" eval "${QC[$i]}"
		wait_slots 1
	done
	QL=() QC=()
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
	for t in build/tests/test_*; do [ -x "$t" ] && queue "unit/$(basename "$t")" "$t"; done
	for t in build/asan/tests/test_*; do
		[ -x "$t" ] && queue "asan/$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 "$t"
	done
	run_queue "$CPU_JOBS"
	for t in tests/integration/test_*; do [ -x "$t" ] && queue "integration/$(basename "$t")" "$t"; done
	# the web app: its encoders against the C ones, then each workflow in Debian's Chromium
	[ -d web/test ] && queue "web/unit" node --test --test-reporter=tap web/test/
	for t in tests/web/*.mjs; do [ -x "$t" ] && queue "web/$(basename "$t" .mjs)" node "$t"; done
	[ -x tests/privacy/run ] && queue "privacy/run" tests/privacy/run
	run_queue "$JOBS"
fi
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] && [ "${f%.d}" = "$f" ] && queue "fuzz/$(basename "$f")" run_fuzz "$f"
done
run_queue "$CPU_JOBS"

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
