#!/bin/bash
# `make bench-cluster`: a 3-institution consortium on this machine (scripts/cluster.sh: three
# etcd members, three nodes, mutual TLS), then from one run:
#   1. etcd's own put rate: 250-byte values, one put per request, many concurrent clients,
#      through the same HTTP/JSON gateway and TLS the nodes use (the reference);
#   2. committed tx/s through the nodes' APIs (business-chain records, clients spread over
#      the three nodes, each waiting for its batch to be committed), p50/p99 latency;
#   3. each node's peak memory (VmHWM) and the ratio committed tx/s / etcd put/s;
#   4. the CPU time per committed tx of the three etcd members and of the three nodes (from
#      /proc over the tx run), and the tx/s those costs allow if the cluster had every core.
# Environment: BENCH_TXS (default 60000), BENCH_CLIENTS (12: each waits for its batch's
# commit, so fewer clients measure the batch latency rather than the throughput), BENCH_BATCH (500),
# BENCH_PUT_SECONDS (5), BENCH_PUT_CLIENTS (16).
set -u
cd "$(dirname "$0")/.."
TXS=${BENCH_TXS:-60000}
CLIENTS=${BENCH_CLIENTS:-12}
BATCH=${BENCH_BATCH:-500}
PUT_S=${BENCH_PUT_SECONDS:-5}
PUT_C=${BENCH_PUT_CLIENTS:-16}
BENCH=build/bench/bench_cluster
DIR=$(mktemp -d /tmp/leben-bench-cluster.XXXXXX)
trap 'scripts/cluster.sh down "$DIR" >/dev/null 2>&1; rm -rf "$DIR"' EXIT

scripts/cluster.sh up 3 "$DIR" >/dev/null || { echo "bench-cluster: the cluster did not start" >&2; exit 1; }
. "$DIR/cluster.env"
# the nodes' APIs answer members only (mutual TLS): present node-1's certificate
export LEBEN_TLS_CA=$DIR/node-1/tls/ca.pem LEBEN_TLS_CERT=$DIR/node-1/tls/node.pem LEBEN_TLS_KEY=$DIR/node-1/tls/node.key
echo "cluster: 3 etcd members + 3 nodes on loopback, mutual TLS; cores: $(nproc); clients: $CLIENTS x $BATCH txs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

put=$("$BENCH" etcd-put "$PUT_S" "$PUT_C" "$DIR/node-1/tls/ca.pem" "$DIR/node-1/tls/node.pem" \
	"$DIR/node-1/tls/node.key" ${ETCD_ENDPOINTS//,/ }) || exit 1
echo "$put"
# CPU seconds (user + system) of the processes named by pids/PREFIX-*.pid
cpu_of() {
	local sum=0 f pid
	for f in "$DIR"/pids/$1-*.pid; do
		pid=$(cat "$f")
		sum=$(awk -v s="$sum" -v hz="$(getconf CLK_TCK)" '{print s + ($14 + $15) / hz}' "/proc/$pid/stat")
	done
	echo "$sum"
}
e0=$(cpu_of etcd); n0=$(cpu_of node)
txs=$("$BENCH" txs "$TXS" "$CLIENTS" "$BATCH" "$NODE_API_1" "$NODE_API_2" "$NODE_API_3") || { echo "$txs"; exit 1; }
echo "$txs"
e1=$(cpu_of etcd); n1=$(cpu_of node)
committed=$(echo "$txs" | sed -n 's/^acknowledged txs: \([0-9]*\).*/\1/p')
python3 - "$e0" "$e1" "$n0" "$n1" "${committed:-$TXS}" "$(nproc)" <<'PY'
import sys
e0, e1, n0, n1, n, cores = (float(x) for x in sys.argv[1:])
e, nd = (e1 - e0) * 1e6 / n, (n1 - n0) * 1e6 / n
print("CPU per committed tx: etcd members together %.0f us, nodes together %.0f us (%.0f us each)"
      % (e, nd, nd / 3))
print("with the %d cores to itself the cluster would commit about %.0f tx/s" % (cores, cores * 1e6 / (e + nd)))
PY
for i in 1 2 3; do
	pid=$(cat "$DIR/pids/node-$i.pid")
	echo "node-$i peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/"$pid"/status)"
done
for i in 1 2 3; do
	h=$(curl -s --cacert "$LEBEN_TLS_CA" --cert "$LEBEN_TLS_CERT" --key "$LEBEN_TLS_KEY" "$(eval echo "\$NODE_API_$i")/v1/chains/business/blocks/latest" |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["height"], j["hash"][:16])')
	echo "node-$i business chain: height and hash $h"
done
tps=$(echo "$txs" | sed -n 's/^committed tx\/s: //p')
pps=$(echo "$put" | sed -n 's/^etcd put\/s: //p')
python3 -c "print('ratio committed tx/s / etcd put/s: %.2f' % ($tps / max($pps, 1)))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
