#!/bin/sh
# Application 5, data-driven insurance, on a local node (docs/apps.md, "5. Data-driven
# insurance"):
#
#   the clinic (a data owner) offers its claims history through exchange; 25 of its 30
#   patients consent -> the insurer (alice) asks to run builtin:logreg on it, the clinic
#   approves, alice pays the escrow, the clinic's node fits the model over the consenting
#   patients only and seals the coefficients (never rows) to alice -> alice prices the
#   premium from them and registers a policy priced by that request (covered diagnosis ->
#   procedure codes, limits, co-pay, waiting period)
#   -> locks 600 ASC in the policy's pool -> the patient (bob) enrols with his own key -> the
#   clinic anchors his FHIR Condition (I21.4) and Procedure (PCI) -> every node adjudicates
#   the claim and the approved amount is paid from the pool to the clinic -> the same claim
#   again, a near copy of the procedure, a stranger's claim and an inconsistent procedure are
#   refused with their reasons -> FHIR Claim / ClaimResponse / Coverage -> the clinic's
#   system writes carol's Coverage, Condition and Procedure to the node's FHIR endpoint: the
#   node raises, adjudicates and settles the claim itself -> `leben verify`.
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

say "2. Premium pricing through exchange: alice's logreg request on the clinic's consented data"
"$LEBEN" keys new patients --home "$DEMO_HOME" >/dev/null
python3 - "$DEMO_HOME/risk.csv" <<'PY'
import math, random, sys
rnd = random.Random(7)
with open(sys.argv[1], "w") as f:
    f.write("patient_id,age_over_50,diabetes,claim\n")
    for i in range(30):
        a, d = rnd.randint(0, 40), 1 if rnd.random() < 0.3 else 0
        p = 1 / (1 + math.exp(-(-2.0 + 0.03 * a + 0.5 * d)))
        f.write("p%d,%d,%d,%d\n" % (i, a, d, 1 if rnd.random() < p else 0))
PY
RISK=$DEMO_HOME/risk.csv
REG=$(x data add "$RISK" --key clinic --price 1 --name "claims history" --json | field '["tx"]')
x tx identity --from clinic --role provider --name "St. Anna Clinic" --wait >/dev/null
x tx transfer --from clinic --to node --amount 10 --asset csc --wait >/dev/null
ASSET=$(x exchange offer --from clinic --asset-tx "$REG" --price 1 --min-cohort 10 --data "$RISK" --json | field '["asset"]')
x exchange grant --from clinic --asset "$ASSET" --executor node --kind own >/dev/null
PX=$("$LEBEN" keys show patients --home "$DEMO_HOME" --json | field '["address"]')
{ echo "local_id,address"; i=0; while [ $i -lt 30 ]; do echo "p$i,$PX"; i=$((i + 1)); done; } >"$DEMO_HOME/keys.csv"
x exchange patients --from clinic --asset "$ASSET" --data "$RISK" --keys "$DEMO_HOME/keys.csv" --out "$DEMO_HOME/cards" >/dev/null
i=5 # p0..p4 never consent: they are left out of the model
while [ $i -lt 30 ]; do x exchange consent --from patients --asset "$ASSET" --patient "p$i" >/dev/null; i=$((i + 1)); done
REQ=$(x exchange request --from alice --asset "$ASSET" --algorithm builtin:logreg \
	--params '{"y":"claim","x":["age_over_50","diabetes"]}' --purpose "premium pricing" --json | field '["tx"]')
x exchange approve --from clinic --request "$REQ" --reason "the model only" >/dev/null
ESC=$(x exchange escrow --from alice --request "$REQ" --executor node --compute-fee 2 --json | field '["escrow"]')
x exchange run --from node --request "$REQ" --escrow "$ESC" --data "$RISK"
x exchange result --from alice --request "$REQ" --out "$DEMO_HOME/model.json"
python3 -c 'import json,sys; m = json.load(open(sys.argv[1])); print("released to alice: n =", m["n"], "coefficients", m["coefficients"])' "$DEMO_HOME/model.json"
x insurance price --request "$REQ" --from alice --x 13,1 --expected 200 --loading 15

say "3. alice registers the policy and locks 600 ASC in its pool"
POLICY=$(x insurance policy --from alice --name "Cardiac cover" \
	--covers I21.4:0270346,I21.4:02703ZZ,I20.0:0270346 --limit-claim 300 --limit-period 500 \
	--period-blocks 100000 --copay 20 --request "$REQ" --x 13,1 --expected 200 --loading 15 \
	--json | field '["policy"]')
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

say "8. Claims raised from FHIR writes: the clinic's system writes carol's records to /fhir"
"$LEBEN" keys new carol --home "$DEMO_HOME" >/dev/null
x tx transfer --from alice --to carol --amount 100 --wait >/dev/null
x tx transfer --from alice --to carol --amount 1 --asset csc --wait >/dev/null
x insurance enrol "$POLICY" --from carol
CAROL_PK=$("$LEBEN" keys show carol --home "$DEMO_HOME" --json | field '["public_key"]')
mkdir -p "$DEMO_HOME/fhir"
NODE_BEFORE=$(asc node)
python3 - "$URL" "$DEMO_HOME/fhir/members" "$CAROL_PK" "$POLICY" <<'PY'
import hashlib, json, sys, time, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
url, members, carol, policy = sys.argv[1:5]
sk = Ed25519PrivateKey.from_private_bytes(b"\x58" * 32)  # the clinic's system, a member key
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
open(members, "a").write(pk + "\n")
def e(res):
    return {"resource": res, "request": {"method": "PUT", "url": res["resourceType"] + "/" + res["id"]}}
bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
    e({"resourceType": "Patient", "id": "carol",
       "identifier": [{"system": "urn:leben:key", "value": carol}]}),
    e({"resourceType": "Coverage", "id": "cov-carol", "status": "active",
       "beneficiary": {"reference": "Patient/carol"}, "payor": [{"display": "Cardiac cover"}],
       "identifier": [{"system": "urn:leben:policy", "value": policy}]}),
    e({"resourceType": "Condition", "id": "c-carol", "subject": {"reference": "Patient/carol"},
       "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I20.0"}]},
       "note": [{"text": "Unstable angina, chest pain at rest for two days, ECG changes."}]}),
    e({"resourceType": "Procedure", "id": "p-carol", "status": "completed",
       "subject": {"reference": "Patient/carol"},
       "code": {"coding": [{"system": "urn:icd-10-pcs", "code": "0270346"}]},
       "reasonReference": [{"reference": "Condition/c-carol"}],
       "extension": [{"url": "urn:leben:billed", "valueMoney": {"value": 120, "currency": "ASC"}}],
       "note": [{"text": "Angioplasty of one coronary artery with a stent, femoral access."}]})]}
body = json.dumps(bundle).encode()
t = int(time.time())
bh = hashlib.blake2b(body, digest_size=32).hexdigest()
d = hashlib.blake2b(("LEBEN-fhir-v1\nPOST\n/fhir\n%d\n%s" % (t, bh)).encode(), digest_size=32).digest()
r = urllib.request.Request(url + "/fhir", data=body, method="POST", headers={
    "Content-Type": "application/fhir+json", "X-Leben-Key": pk, "X-Leben-Time": str(t),
    "X-Leben-Signature": sk.sign(d).hex()})
with urllib.request.urlopen(r) as f:
    print("POST /fhir (Patient, Coverage, Condition I20.0, Procedure billed 120 ASC):", f.status)
for _ in range(300):
    with urllib.request.urlopen(url + "/v1/insurance/auto-claims") as f:
        c = [x for x in json.load(f)["claims"] if x["procedure"] == "Procedure/p-carol"]
    if c:
        print("auto-claim:", c[0]["status"], "approved", c[0].get("approved", 0) / 1e6, "ASC",
              c[0].get("error", ""))
        break
    time.sleep(0.2)
PY
echo "node ASC: $NODE_BEFORE -> $(asc node) micro-ASC (96 ASC = 120 x (1 - 20 %))"

say "9. leben verify replays the chains"
kill $NODE_PID; wait $NODE_PID 2>/dev/null || true
trap - EXIT
"$LEBEN" verify --home "$DEMO_HOME"
echo "done: $DEMO_HOME"
