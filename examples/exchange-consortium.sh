#!/bin/sh
# End-to-end data exchange across a local consortium of three institutions, where the data
# really travels (sealed) between nodes:
#
#   institution-1 (node-1): the clinic owns a table of patient data; alice, a researcher, uses
#                           this node too
#   institution-2 (node-2): runs the off-site scenario on its node
#   institution-3 (node-3): a computing provider; the integrated run happens on its node
#
# Off-site: offer -> request -> approve -> escrow -> the clinic seals its table to node-2's key
# and delivers it there -> node-2 checks the chain, runs the algorithm in its sandbox (the
# table opened only inside it), applies the clinic's output policy, seals the result to alice
# and releases the escrow -> alice opens her result -> balances -> the asset's history.
# Integrated: the same at node-3, a computing provider.
#
#   examples/exchange-consortium.sh          # needs build/leben and etcd (scripts/deps.sh --test)
#   KEEP=1 examples/exchange-consortium.sh   # leave the cluster running at the end
#
# Everything runs against real nodes started here (scripts/cluster.sh up 3) and stopped at the
# end.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LEBEN=${LEBEN:-$ROOT/build/leben}
export LEBEN_BIN=$LEBEN
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-cluster}
CLUSTER=${CLUSTER:-$(mktemp -d /tmp/leben-xchg-cluster.XXXXXX)}

say() { printf '\n== %s\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# at institution I: leben ... --home node-I --node URL-I
at() { i=$1; shift; "$LEBEN" "$@" --home "$CLUSTER/node-$i" --node "$(eval echo "\$NODE_API_$i")"; }

say "1. A consortium of three institutions on this machine (etcd ordering, mutual TLS)"
"$ROOT/scripts/cluster.sh" up 3 "$CLUSTER"
if [ -z "${KEEP:-}" ]; then
	trap '"$ROOT/scripts/cluster.sh" down "$CLUSTER" >/dev/null' EXIT
fi
# shellcheck disable=SC1091
. "$CLUSTER/cluster.env"
N2=$("$LEBEN" keys show node --home "$CLUSTER/node-2" --json | field '["address"]')
N3=$("$LEBEN" keys show node --home "$CLUSTER/node-3" --json | field '["address"]')
echo "institution-2's node key $N2"
echo "institution-3's node key $N3"
"$LEBEN" keys new patient7 --home "$CLUSTER/node-1" >/dev/null
"$LEBEN" keys new patients --home "$CLUSTER/node-1" >/dev/null # the other patients' key, for the demo

say "2. The clinic's data: 12 patients (it leaves the clinic only sealed)"
DATA=$CLUSTER/cohort.csv
{
	echo "patient_id,age,systolic,hba1c"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "P$n,$((40 + n * 3)),$((118 + n * 2)),$((50 + n % 5))"
	done
} >"$DATA"

say "3. The clinic publishes and offers it (5 ASC a run, results for >= 10 patients only)"
REG=$(at 1 data add "$DATA" --key clinic --price 5 --name "hypertension cohort" --json | field '["tx"]')
at 1 tx identity --from clinic --role provider --name "St. Anna Clinic" --wait >/dev/null
# the executors pay the settlement fees of their release txs: a little CSC for each
at 1 tx transfer --from clinic --to "$N2" --amount 10 --asset csc --wait >/dev/null
at 1 tx transfer --from clinic --to "$N3" --amount 10 --asset csc --wait >/dev/null
ASSET=$(at 1 exchange offer --from clinic --asset-tx "$REG" --price 5 --min-cohort 10 --data "$DATA" --json | field '["asset"]')
echo "asset $ASSET"

say "4. The built-in stats algorithm belongs to the platform: no registration, no algorithm fee"

say "5. The clinic grants execution rights: to institution-2's node, to institution-3 (provider)"
at 1 exchange grant --from clinic --asset "$ASSET" --executor "$N2" --kind node
at 1 exchange grant --from clinic --asset "$ASSET" --executor "$N3" --kind provider

say "6. The clinic registers its patients' consent keys; they consent (opt-in); P7 then revokes"
KEYS=$CLUSTER/patient-keys.csv
P7=$("$LEBEN" keys show patient7 --home "$CLUSTER/node-1" --json | field '["address"]')
PX=$("$LEBEN" keys show patients --home "$CLUSTER/node-1" --json | field '["address"]')
{
	echo "local_id,address"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		if [ $n -eq 7 ]; then echo "P$n,$P7"; else echo "P$n,$PX"; fi
	done
} >"$KEYS"
at 1 exchange patients --from clinic --asset "$ASSET" --data "$DATA" --keys "$KEYS" --out "$CLUSTER/cards"
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	at 1 exchange opening --asset "$ASSET" --patient "P$n" --out "$CLUSTER/card-P$n.json" >/dev/null
	if [ $n -eq 7 ]; then K=patient7; else K=patients; fi
	at 1 exchange consent --from "$K" --opening "$CLUSTER/card-P$n.json" >/dev/null
done
at 1 exchange consent --from patient7 --opening "$CLUSTER/card-P7.json" --revoke

PARAMS='{"columns":["age","systolic","hba1c"]}'
for SCEN in off-site integrated; do
	if [ "$SCEN" = off-site ]; then I=2; EXEC=$N2; else I=3; EXEC=$N3; fi
	URL=$(eval echo "\$NODE_API_$I")

	say "7 ($SCEN). alice asks for a run at institution-$I; the clinic approves"
	REQ=$(at 1 exchange request --from alice --asset "$ASSET" --algorithm builtin:stats --params "$PARAMS" --scenario "$SCEN" --purpose "blood pressure by age" --json | field '["tx"]')
	at 1 exchange approve --from clinic --request "$REQ" --reason "aggregates only"

	say "8 ($SCEN). alice locks 5 ASC and 2 CSC in escrow for executor institution-$I"
	ESC=$(at 1 exchange escrow --from alice --request "$REQ" --executor "$EXEC" --compute-fee 2 --json | field '["escrow"]')
	echo "escrow $ESC"

	say "9 ($SCEN). The clinic seals its table to institution-$I's node key and delivers it there"
	at 1 exchange send --from clinic --request "$REQ" --escrow "$ESC" --data "$DATA" --to "$URL"

	say "10 ($SCEN). Institution-$I runs it in its sandbox, seals the result to alice, releases the escrow"
	at "$I" exchange run --from node --request "$REQ" --escrow "$ESC"

	say "11 ($SCEN). alice opens her result (kept on institution-$I's node)"
	"$LEBEN" exchange result --from alice --request "$REQ" --home "$CLUSTER/node-1" --node "$URL" --out "$CLUSTER/result-$SCEN.json"
	cat "$CLUSTER/result-$SCEN.json"; echo
	echo "$REQ" >"$CLUSTER/request-$SCEN"
done

say "12. Balances after both runs"
for k in alice clinic "$N2" "$N3"; do
	printf '%-44s ' "$k"; at 1 query account "$k" --json | field '["balances"]'
done

say "13. Who used the clinic's data, for what, when, paid what (read from institution-3's node)"
at 3 exchange log --asset "$ASSET"

echo
echo "Done. The cluster's directory is $CLUSTER"
