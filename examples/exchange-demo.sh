#!/bin/sh
# End-to-end data exchange on a local node: a clinic publishes and offers a table of patient data, an
# author's attempt to register the built-in "stats" algorithm as his is refused (built-ins
# belong to the platform), a researcher (alice) requests a run of it, the
# clinic approves it, the clinic registers its patients' consent keys, the patients consent
# (opt-in) and one of them then revokes, alice locks the fees in escrow, the
# clinic's node runs it (leaving that patient out), seals the result to alice and releases
# the escrow; then everyone's view: balances, alice's result, the asset's and the patient's
# history.
#
#   examples/exchange-demo.sh            # uses ./build/leben and a fresh home in /tmp
#   LEBEN=/usr/bin/leben DEMO_HOME=/tmp/x examples/exchange-demo.sh
#
# Everything runs against a real node started here and stopped at the end.
set -eu

LEBEN=${LEBEN:-$(dirname "$0")/../build/leben}
DEMO_HOME=${DEMO_HOME:-$(mktemp -d /tmp/leben-exchange-demo.XXXXXX)}
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}
PORT=${PORT:-0}

say() { printf '\n== %s\n' "$*"; }
x() { "$LEBEN" "$@" --home "$DEMO_HOME" --node "$URL"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

say "1. A node home with demo accounts: clinic (data owner), bob (algorithm author), alice (user)"
"$LEBEN" init --home "$DEMO_HOME" --demo
"$LEBEN" keys new patient7 --home "$DEMO_HOME" >/dev/null
"$LEBEN" keys new patients --home "$DEMO_HOME" >/dev/null # the other patients' key, for the demo

say "2. Start the node"
"$LEBEN" node --home "$DEMO_HOME" --api-port "$PORT" 2>"$DEMO_HOME/node.log" &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
i=0
until grep -q "API listening on" "$DEMO_HOME/node.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$DEMO_HOME/node.log"; exit 1; }; sleep 0.1
done
URL=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$DEMO_HOME/node.log" | head -1)
echo "node API at $URL"

say "3. The clinic's data: 12 patients (it never leaves the clinic)"
DATA=$DEMO_HOME/cohort.csv
{
	echo "patient_id,age,systolic,hba1c"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "P$n,$((40 + n * 3)),$((118 + n * 2)),$((50 + n % 5))"
	done
} >"$DATA"
cat "$DATA"

say "4. The clinic publishes the asset in the directory (description and hash only; the file goes to its vault, encrypted)"
REG=$(x data add "$DATA" --key clinic --price 5 --name "hypertension cohort" --json | field '["tx"]')
echo "data.register tx $REG"
# the clinic's identity on the business chain (its block also anchors the registration above,
# which the offer cites across chains)
x tx identity --from clinic --role provider --name "St. Anna Clinic" --wait >/dev/null
# the executor of this demo: the clinic's own node key, with a little CSC for settlement fees
x tx transfer --from clinic --to node --amount 10 --asset csc --wait >/dev/null
sleep 0.3

say "5. The clinic offers it: 5 ASC per run, results only for >= 10 patients, nothing pre-approved"
ASSET=$(x exchange offer --from clinic --asset-tx "$REG" --price 5 --min-cohort 10 --data "$DATA" --json | field '["asset"]')
echo "asset $ASSET"
x exchange grant --from clinic --asset "$ASSET" --executor node --kind own

say "6. Built-in algorithms belong to the platform: bob cannot register stats to be paid for it"
x exchange algo --from bob --builtin stats --fee 1 --name "descriptive statistics" 2>&1 |
	grep -o "built-in algorithms belong to the platform"

say "7. alice asks to run it; it waits for the clinic's approval"
REQ=$(x exchange request --from alice --asset "$ASSET" --algorithm builtin:stats --params '{"columns":["age","systolic","hba1c"]}' --purpose "blood pressure by age, for a hypertension study" --json | field '["tx"]')
x exchange status --request "$REQ" | grep -E "^status"
x exchange approve --from clinic --request "$REQ" --reason "aggregate statistics only"

say "8. The clinic registers each patient's consent key (the chain sees only salted commitments)"
KEYS=$DEMO_HOME/patient-keys.csv
P7=$("$LEBEN" keys show patient7 --home "$DEMO_HOME" --json | field '["address"]')
PX=$("$LEBEN" keys show patients --home "$DEMO_HOME" --json | field '["address"]')
{
	echo "local_id,address"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		if [ $n -eq 7 ]; then echo "P$n,$P7"; else echo "P$n,$PX"; fi
	done
} >"$KEYS"
x exchange patients --from clinic --asset "$ASSET" --data "$DATA" --keys "$KEYS" --out "$DEMO_HOME/cards"
echo "opening card of P7 (what the patient receives to open its commitment):"
x exchange opening --asset "$ASSET" --patient P7

say "9. The patients give consent with their opening cards (opt-in); P7 then revokes"
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	x exchange opening --asset "$ASSET" --patient "P$n" --out "$DEMO_HOME/card-P$n.json" >/dev/null
	if [ $n -eq 7 ]; then K=patient7; else K=patients; fi
	x exchange consent --from "$K" --opening "$DEMO_HOME/card-P$n.json" >/dev/null
done
x exchange consent --from patient7 --opening "$DEMO_HOME/card-P7.json" --revoke

say "10. alice locks 5 ASC (data; a built-in costs nothing) and 2 CSC in escrow on the settlement chain"
ESC=$(x exchange escrow --from alice --request "$REQ" --executor node --compute-fee 2 --json | field '["escrow"]')
echo "escrow $ESC"

say "11. The clinic's node runs it, checks the output policy, seals the result to alice, releases the escrow"
x exchange run --from node --request "$REQ" --escrow "$ESC" --data "$DATA"

say "12. alice opens her result (checked against the hash on the chain)"
x exchange result --from alice --request "$REQ"

say "13. Balances after the split"
for k in alice clinic bob node; do
	printf '%-7s ' "$k"; x query account "$k" --json | field '["balances"]'
done

say "14. Who used the clinic's data, for what, when, paid what"
x exchange log --asset "$ASSET"

say "15. Patient P7's view"
x exchange log --patient P7 --asset "$ASSET"

echo
echo "Done. The node's home is $DEMO_HOME"
