#!/bin/sh
# Application 5, data-driven insurance, on a local node (docs/apps.md, "5. Data-driven
# insurance"):
#
#   the clinic (a data owner) fits a claim-risk model on its consented table in the sandbox:
#   only the coefficients come out -> the insurer (alice) prices the premium from them and
#   registers a policy (covered diagnosis -> procedure codes, limits, co-pay, waiting period)
#   -> locks 600 ASC in the policy's pool -> the patient (bob) enrols with his own key -> the
#   clinic anchors his FHIR Condition (I21.4) and Procedure (PCI) -> every node adjudicates
#   the claim and the approved amount is paid from the pool to the clinic -> the same claim
#   again, a near copy of the procedure, a stranger's claim and an inconsistent procedure are
#   refused with their reasons -> FHIR Claim / ClaimResponse / Coverage -> `leben verify`.
#
#   examples/apps/insurance.sh            # needs build/leben
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEBEN=${LEBEN:-$ROOT/build/leben}
DATA=$ROOT/tests/data/insurance
DEMO_HOME=${DEMO_HOME:-$(mktemp -d /tmp/leben-insurance.XXXXXX)}
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}
PORT=${PORT:-0}

say() { printf '\n== %s\n' "$*"; }
x() { "$LEBEN" "$@" --home "$DEMO_HOME" --node "$URL"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
asc() { x query account "$1" --json | field '.get("balances", {}).get("asc", 0)'; }
refused() { # refused WHAT CMD...: the command must fail; its reason is shown
	what=$1; shift
	if out=$("$@" 2>&1); then echo "NOT refused: $what"; exit 1; fi
	echo "refused ($what): $out"
}

say "1. A node home: alice (insurer), bob (patient), clinic (provider), bank (a stranger)"
"$LEBEN" init --home "$DEMO_HOME" --demo >/dev/null
"$LEBEN" node --home "$DEMO_HOME" --api-port "$PORT" 2>"$DEMO_HOME/node.log" &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
i=0
until grep -q "API listening on" "$DEMO_HOME/node.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$DEMO_HOME/node.log"; exit 1; }; sleep 0.1
done
URL=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$DEMO_HOME/node.log" | head -1)
echo "node API at $URL"

say "2. The clinic fits the risk model on its consented table in the sandbox (coefficients only)"
python3 - "$DEMO_HOME/risk.csv" <<'PY'
import math, random, sys
rnd = random.Random(7)
with open(sys.argv[1], "w") as f:
    f.write("patient,age_over_50,diabetes,claim\n")
    for i in range(400):
        a, d = rnd.randint(0, 40), 1 if rnd.random() < 0.3 else 0
        p = 1 / (1 + math.exp(-(-2.0 + 0.03 * a + 0.5 * d)))
        f.write("p%d,%d,%d,%d\n" % (i, a, d, 1 if rnd.random() < p else 0))
PY
"$LEBEN" sandbox run --algorithm logreg --input "$DEMO_HOME/risk.csv" \
	--params '{"y":"claim","x":["age_over_50","diabetes"]}' --json >"$DEMO_HOME/model.json"
field '["result"]["coefficients"]' <"$DEMO_HOME/model.json"
x insurance price --model "$DEMO_HOME/model.json" --x 13,1 --expected 200 --loading 15
PREMIUM=$(x insurance price --model "$DEMO_HOME/model.json" --x 13,1 --expected 200 \
	--loading 15 --json | field '["premium_asc"]')

say "3. alice registers the policy and locks 600 ASC in its pool"
POLICY=$(x insurance policy --from alice --name "Cardiac cover" \
	--covers I21.4:0270346,I21.4:02703ZZ,I20.0:0270346 --limit-claim 300 --limit-period 500 \
	--period-blocks 100000 --copay 20 --premium "$(printf '%.6f' "$PREMIUM")" --json |
	field '["policy"]')
x insurance fund "$POLICY" 600 --from alice
x insurance status "$POLICY"

say "4. bob enrols with his own key; the clinic anchors his Condition and Procedure"
x insurance enrol "$POLICY" --from bob
COND=$(x insurance event condition bob I21.4 --resource "$DATA/condition.json" --from clinic --json | field '["event"]')
PROC=$(x insurance event procedure bob 0270346 --resource "$DATA/procedure.json" --from clinic --json | field '["event"]')

say "5. The claim: adjudicated on the node, then settled from the pool to the clinic"
x insurance adjudicate "$POLICY" bob --condition "$COND" --procedure "$PROC" --cost 250 --from clinic
BEFORE=$(asc clinic)
OUT=$(x insurance claim "$POLICY" bob --condition "$COND" --procedure "$PROC" --cost 250 --from clinic)
echo "$OUT"
CLAIM=$(echo "$OUT" | sed -n 's/^claim \([0-9a-f]*\) approved.*/\1/p')
echo "clinic ASC: $BEFORE -> $(asc clinic) micro-ASC (200 ASC = min(300, 250) x (1 - 20 %))"

say "6. Refusals"
refused "paid twice" x insurance settle "$CLAIM" --from clinic
refused "the same events again" x insurance claim "$POLICY" bob --condition "$COND" \
	--procedure "$PROC" --cost 250 --approved 200 --from clinic
COND2=$(x insurance event condition bob I21.4 --resource "$DATA/condition_other.json" --from clinic --json | field '["event"]')
COPY=$(x insurance event procedure bob 0270346 --resource "$DATA/procedure_copy.json" --from clinic --json | field '["event"]')
refused "near copy" x insurance claim "$POLICY" bob --condition "$COND2" --procedure "$COPY" \
	--cost 250 --approved 200 --from clinic
refused "stranger" x insurance claim "$POLICY" bob --condition "$COND2" --procedure "$COPY" \
	--cost 250 --approved 200 --from bank
OTHER=$(x insurance event procedure bob 0DTJ4ZZ --resource "$DATA/procedure_other.json" --from clinic --json | field '["event"]')
refused "inconsistent procedure" x insurance claim "$POLICY" bob --condition "$COND2" \
	--procedure "$OTHER" --cost 90 --approved 72 --from clinic

say "7. FHIR Claim / ClaimResponse and Coverage"
x insurance status --claim "$CLAIM" --json | field '["claimResponse"]'
x insurance status "$POLICY" bob

say "8. leben verify replays the chains"
kill $NODE_PID; wait $NODE_PID 2>/dev/null || true
trap - EXIT
"$LEBEN" verify --home "$DEMO_HOME"
echo "done: $DEMO_HOME"
