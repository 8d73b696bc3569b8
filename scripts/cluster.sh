#!/bin/bash
# A local LEBEN consortium on loopback: N etcd members and N leben nodes, mutual TLS on every
# link, each under its own directory of one cluster directory.
#
#   scripts/cluster.sh up N [DIR]   start (DIR default: a new temporary directory); prints
#                                   the nodes' API URLs, one per line, after "api:"
#   scripts/cluster.sh down [DIR]   stop exactly the processes started by `up` (pid files)
#   scripts/cluster.sh status [DIR] show which of them run
#   scripts/cluster.sh stop-node DIR I / start-node DIR I   stop (TERM, by pid) or start node I
#   scripts/cluster.sh stop-etcd DIR I / start-etcd DIR I   the same for etcd member I
#   scripts/cluster.sh crl DIR      install DIR/ca/crl.pem (after `leben ca revoke`) as every
#                                   node's tls_crl and every etcd member's CRL file (read by
#                                   them without a restart)
#   scripts/cluster.sh add-etcd DIR I INITIAL   start a new etcd member I that joins the running
#                                   cluster (--initial-cluster-state existing, INITIAL as
#                                   printed by `leben governance etcd add-learner`)
#
# Layout of DIR: ca/ (the consortium CA), etcd-I/{tls,data,etcd.log} for member I,
# node-I/ (a node home; tls/ holds its certificate) with node.log, pids/*.pid, cluster.env.
# Environment: LEBEN_BIN (default build/leben), LEBEN_PASSPHRASE (default "cluster"),
# LEBEN_CLUSTER_BLOCK_MAX (genesis ordering.block_max_txs, default 5000), LEBEN_CLUSTER_INTERVAL_MS (200),
# LEBEN_CLUSTER_CHECKPOINT (checkpoint_interval, default 100). Every node's key is a
# consortium member in the genesis (all four super-node kinds, or per node from
# LEBEN_CLUSTER_KINDS="data,audit;computing;audit"), so each signs checkpoints.
# LEBEN_CLUSTER_GENESIS: a JSON object of extra genesis.json keys (e.g. {"audit": {...}}).
# LEBEN_CLUSTER_NAMES: the members' names, ';' between nodes (default institution-1, ...).
# The last cluster's DIR is remembered in /tmp/leben-cluster-$UID.dir for `down`.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LEBEN_BIN:-$ROOT/build/leben}
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-cluster}
LAST=/tmp/leben-cluster-$(id -u).dir
ETCD=${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}

die() { echo "cluster.sh: $*" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# stop one process by its pid file: TERM, up to 10 s grace, then KILL
stop_pid() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		kill -CONT "$pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$f"
}

cmd_down() {
	local dir=${1:-$(cat "$LAST" 2>/dev/null)}
	[ -n "$dir" ] && [ -d "$dir/pids" ] || die "no cluster to stop (give its directory)"
	for f in "$dir"/pids/node-*.pid; do [ -e "$f" ] && stop_pid "$f"; done
	for f in "$dir"/pids/etcd-*.pid; do [ -e "$f" ] && stop_pid "$f"; done
	echo "stopped the cluster in $dir"
}

cmd_status() {
	local dir=${1:-$(cat "$LAST" 2>/dev/null)}
	[ -n "$dir" ] && [ -d "$dir/pids" ] || die "no cluster (give its directory)"
	for f in "$dir"/pids/*.pid; do
		[ -e "$f" ] || continue
		if kill -0 "$(cat "$f")" 2>/dev/null; then s=running; else s=stopped; fi
		echo "$(basename "$f" .pid) $(cat "$f") $s"
	done
}

# start etcd member I (ports and cluster string from cluster.env)
start_etcd() {
	local i=$1 d=$DIR/etcd-$1
	# shellcheck disable=SC1091
	. "$DIR/cluster.env"
	local cport pport initial state crl=()
	cport=$(eval echo "\$ETCD_CLIENT_$i"); pport=$(eval echo "\$ETCD_PEER_$i")
	initial=$(eval echo "\${ETCD_INITIAL_$i:-\$ETCD_INITIAL}"); state=$(eval echo "\${ETCD_STATE_$i:-new}")
	[ -f "$d/tls/crl.pem" ] && crl=(--client-crl-file "$d/tls/crl.pem" --peer-crl-file "$d/tls/crl.pem")
	"$ETCD" --name "e$i" --data-dir "$d/data" \
		--listen-client-urls "https://127.0.0.1:$cport" \
		--advertise-client-urls "https://127.0.0.1:$cport" \
		--listen-peer-urls "https://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "https://127.0.0.1:$pport" \
		--initial-cluster "$initial" --initial-cluster-state "$state" "${crl[@]}" \
		--initial-cluster-token "leben-$CLUSTER_TOKEN" \
		--client-cert-auth --trusted-ca-file "$d/tls/ca.pem" \
		--cert-file "$d/tls/node.pem" --key-file "$d/tls/node.key" \
		--peer-client-cert-auth --peer-trusted-ca-file "$d/tls/ca.pem" \
		--peer-cert-file "$d/tls/node.pem" --peer-key-file "$d/tls/node.key" \
		--max-txn-ops 10000 --max-request-bytes 4194304 \
		--experimental-watch-progress-notify-interval 2s \
		--logger zap --log-outputs "$d/etcd.log" >/dev/null 2>&1 &
	echo $! > "$DIR/pids/etcd-$i.pid"
}

start_node() {
	local i=$1
	"$BIN" node --home "$DIR/node-$i" >>"$DIR/node-$i/node.log" 2>&1 </dev/null &
	echo $! > "$DIR/pids/node-$i.pid"
}

cmd_up() {
	local n=${1:-}
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "usage: cluster.sh up N [DIR] (N = 1..9)"
	[ -x "$BIN" ] || die "$BIN is not built (run make)"
	[ -x "$ETCD" ] || die "etcd is not installed (run make, or scripts/deps.sh, which installs etcd-server)"
	DIR=${2:-$(mktemp -d /tmp/leben-cluster.XXXXXX)}
	mkdir -p "$DIR/pids" || die "cannot create $DIR"
	[ -e "$DIR/cluster.env" ] && die "$DIR already holds a cluster (use another directory)"
	echo "$DIR" > "$LAST"
	"$BIN" ca init --dir "$DIR/ca" --name leben-consortium >/dev/null || die "ca init failed"
	"$BIN" ca crl --dir "$DIR/ca" >/dev/null || die "ca crl failed"
	local initial="" endpoints="" i
	{
		echo "CLUSTER_N=$n"
		echo "CLUSTER_TOKEN=$(basename "$DIR")"
		for i in $(seq "$n"); do
			local c p
			c=$(free_port); p=$(free_port)
			while [ "$p" = "$c" ]; do p=$(free_port); done
			echo "ETCD_CLIENT_$i=$c"; echo "ETCD_PEER_$i=$p"
			initial="$initial${initial:+,}e$i=https://127.0.0.1:$p"
			endpoints="$endpoints${endpoints:+,}https://127.0.0.1:$c"
		done
		echo "ETCD_INITIAL=$initial"
		echo "ETCD_ENDPOINTS=$endpoints"
	} > "$DIR/cluster.env"
	for i in $(seq "$n"); do
		"$BIN" ca issue --dir "$DIR/ca" --name "etcd-$i" --out "$DIR/etcd-$i/tls" >/dev/null ||
			die "ca issue etcd-$i failed"
		cp "$DIR/ca/crl.pem" "$DIR/etcd-$i/tls/crl.pem"
		start_etcd "$i"
	done
	# node homes: the first makes the genesis (with demo accounts); every node's key becomes
	# a consortium member (it signs checkpoints); the others copy the genesis
	for i in $(seq "$n"); do
		if [ "$i" = 1 ]; then
			"$BIN" init --home "$DIR/node-1" --demo --network leben-consortium >/dev/null || die "init node-1 failed"
		else
			"$BIN" init --home "$DIR/node-$i" --network leben-consortium >/dev/null || die "init node-$i failed"
		fi
	done
	python3 - "$DIR" "$n" <<'PY' || die "cannot write the members into genesis.json"
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
g = json.load(open(d + "/node-1/genesis.json"))
import os
# LEBEN_CLUSTER_KINDS: each node's super-node kinds, ';' between nodes ("data;computing,algorithm;audit")
kinds = os.environ.get("LEBEN_CLUSTER_KINDS", "").split(";")
# LEBEN_CLUSTER_NAMES: the members' names, ';' between nodes (default institution-1, ...)
names = [x for x in os.environ.get("LEBEN_CLUSTER_NAMES", "").split(";") if x]
g["members"] = [{"name": names[i - 1] if len(names) >= i else "institution-%d" % i,
                 "address": json.load(open("%s/node-%d/keys/node.key" % (d, i)))["address"],
                 "kinds": kinds[i - 1].split(",") if len(kinds) >= i and kinds[i - 1]
                 else ["data", "computing", "algorithm", "audit"]} for i in range(1, n + 1)]
# LEBEN_CLUSTER_GENESIS: a JSON object whose keys are added to genesis.json (e.g. "audit")
if os.environ.get("LEBEN_CLUSTER_GENESIS"):
    g.update(json.loads(os.environ["LEBEN_CLUSTER_GENESIS"]))
# the cut threshold is the network's (genesis), not each node's: every member cuts alike
import os
if os.environ.get("LEBEN_CLUSTER_BLOCK_MAX"):
    g["ordering"] = {"block_max_txs": int(os.environ["LEBEN_CLUSTER_BLOCK_MAX"])}
json.dump(g, open(d + "/node-1/genesis.json", "w"), indent=2)
PY
	for i in $(seq "$n"); do
		local h=$DIR/node-$i port pport
		[ "$i" = 1 ] || cp "$DIR/node-1/genesis.json" "$h/genesis.json"
		"$BIN" ca issue --dir "$DIR/ca" --name "node-$i" --org "institution-$i" --home "$h" >/dev/null ||
			die "ca issue node-$i failed"
		cp "$DIR/ca/crl.pem" "$h/tls/crl.pem"
		port=$(free_port)
		pport=$(free_port)
		python3 - "$h/config.json" "$port" "$endpoints" "$pport" <<'PY'
import json, sys
p, port, eps, pport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
c = json.load(open(p))
c.update({"api_port": port, "api_tls": True, "orderer": "etcd", "etcd_endpoints": eps,
          "peer_listen": "127.0.0.1:%d" % pport, "tls_crl": p.rsplit("/", 1)[0] + "/tls/crl.pem"})
import os
bm, iv = os.environ.get("LEBEN_CLUSTER_BLOCK_MAX"), os.environ.get("LEBEN_CLUSTER_INTERVAL_MS")
ck = os.environ.get("LEBEN_CLUSTER_CHECKPOINT")
if bm: c["block_max_txs"] = int(bm)
if iv: c["block_interval_ms"] = int(iv)
if ck: c["checkpoint_interval"] = int(ck)
json.dump(c, open(p, "w"), indent=2)
PY
		{ echo "NODE_API_$i=https://127.0.0.1:$port"; echo "NODE_PEER_$i=127.0.0.1:$pport"; } >> "$DIR/cluster.env"
	done
	for i in $(seq "$n"); do start_node "$i"; done
	# ready when every node's API answers and says ordering is available
	. "$DIR/cluster.env"
	for i in $(seq "$n"); do
		local url ok=""
		url=$(eval echo "\$NODE_API_$i")
		for _ in $(seq 300); do
			if curl -sf --cacert "$DIR/ca/ca.pem" --cert "$DIR/node-$i/tls/node.pem" \
				--key "$DIR/node-$i/tls/node.key" "$url/v1/status" 2>/dev/null | grep -q '"available": *true'; then ok=1; break; fi
			kill -0 "$(cat "$DIR/pids/node-$i.pid")" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$ok" ] || { tail -5 "$DIR/node-$i/node.log" >&2; die "node-$i did not become ready (see $DIR/node-$i/node.log)"; }
	done
	echo "cluster: $DIR"
	echo "etcd: $endpoints"
	for i in $(seq "$n"); do echo "api: $(eval echo "\$NODE_API_$i")"; done
}

# install the CA's current revocation list everywhere (atomically: copy, then rename)
cmd_crl() {
	local dir=$1 t
	[ -f "$dir/ca/crl.pem" ] || die "no $dir/ca/crl.pem (run leben ca revoke or ca crl)"
	for t in "$dir"/etcd-*/tls "$dir"/node-*/tls; do
		[ -d "$t" ] || continue
		cp "$dir/ca/crl.pem" "$t/crl.pem.tmp" && mv -f "$t/crl.pem.tmp" "$t/crl.pem"
	done
}

# a new etcd member I joining the running cluster (after `leben governance etcd add-learner`)
cmd_add_etcd() {
	DIR=$1
	local i=$2 initial=$3 c p
	[ -f "$DIR/cluster.env" ] || die "no cluster in $DIR"
	c=$(free_port); p=$(free_port)
	if ! grep -q "^ETCD_CLIENT_$i=" "$DIR/cluster.env"; then
		{ echo "ETCD_CLIENT_$i=${ETCD_CLIENT_PORT:-$c}"; echo "ETCD_PEER_$i=${ETCD_PEER_PORT:-$p}"; } >> "$DIR/cluster.env"
	fi
	{ echo "ETCD_INITIAL_$i=$initial"; echo "ETCD_STATE_$i=existing"; } >> "$DIR/cluster.env"
	if [ ! -f "$DIR/etcd-$i/tls/node.pem" ]; then
		"$BIN" ca issue --dir "$DIR/ca" --name "etcd-$i" --out "$DIR/etcd-$i/tls" >/dev/null ||
			die "ca issue etcd-$i failed"
	fi
	[ -f "$DIR/ca/crl.pem" ] && cp "$DIR/ca/crl.pem" "$DIR/etcd-$i/tls/crl.pem"
	start_etcd "$i"
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
down) shift; cmd_down "$@" ;;
status) shift; cmd_status "$@" ;;
start-node) DIR=$2; start_node "$3" ;;
stop-node) stop_pid "$2/pids/node-$3.pid" ;;
stop-etcd) stop_pid "$2/pids/etcd-$3.pid" ;;
start-etcd) DIR=$2; start_etcd "$3" ;;
crl) cmd_crl "$2" ;;
add-etcd) cmd_add_etcd "$2" "$3" "$4" ;;
*) die "usage: cluster.sh up N [DIR] | down [DIR] | status [DIR]" ;;
esac
