#!/bin/sh
# Application 2, chronic-disease monitoring, end to end on a local node (docs/apps.md, "2.
# Chronic-disease monitoring"):
#
#   a device-data provider (acme) is registered with its key and a price per accepted reading
#   -> two patients are enrolled with the chronic risk contract (examples/contracts/
#   chronic_risk.pf), a clinician, a second contact, a webhook (a local receiver started here
#   that refuses the first attempts) and an acknowledgement deadline -> acme sends a signed
#   NDJSON batch: readings graded by the contract as they arrive, bad ones refused with their
#   reason -> the webhook receives every warning after retries -> the clinician acknowledges
#   one -> another, not acknowledged, escalates to the second contact -> acme's accepted
#   readings are settled on the business chain (monitor.payment, count x price).
#   The provider registers itself with its key (a stranger cannot take its name); p1 is
#   enrolled by the institution (the node's key) with p1's consent, p2 enrols with their own
#   key. A wearable (provider wearco) also posts its Observations to the node's FHIR endpoint
#   (/fhir, a signed transaction Bundle): they are graded and paid the same way.
#
#   examples/apps/monitoring.sh            # needs build/leben
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEBEN=${LEBEN:-$ROOT/build/leben}
DEMO_HOME=${DEMO_HOME:-$(mktemp -d /tmp/leben-monitor-demo.XXXXXX)}
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}

say() { printf '\n== %s\n' "$*"; }
x() { "$LEBEN" "$@" --home "$DEMO_HOME" --node "$URL"; }

say "1. A node home and its keys: acme (device-data provider), drsmith (clinician), oncall"
"$LEBEN" init --home "$DEMO_HOME" --demo >/dev/null
for k in acme drsmith oncall p1 p2; do "$LEBEN" keys new $k --home "$DEMO_HOME" >/dev/null; done
"$LEBEN" node --home "$DEMO_HOME" --api-port 0 2>"$DEMO_HOME/node.log" &
NODE_PID=$!
# a webhook receiver that answers 503 to the first two attempts of each warning
cat >"$DEMO_HOME/hook.py" <<'PY'
import http.server, json, sys
seen = {}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        j = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        seen[j["id"]] = seen.get(j["id"], 0) + 1
        ok = seen[j["id"]] > 2
        with open(sys.argv[2], "a") as f:
            f.write("warning %d (%s, %s): attempt %d -> %s\n" % (j["id"], j["grade"], j["patient"],
                    seen[j["id"]], "200" if ok else "503"))
        self.send_response(200 if ok else 503)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$DEMO_HOME/hook.py" "$DEMO_HOME/hook.port" "$DEMO_HOME/hook.log" &
HOOK_PID=$!
trap 'kill $NODE_PID $HOOK_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
i=0
until grep -q "API listening on" "$DEMO_HOME/node.log" 2>/dev/null && [ -s "$DEMO_HOME/hook.port" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$DEMO_HOME/node.log"; exit 1; }; sleep 0.1
done
URL=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$DEMO_HOME/node.log" | head -1)
HOOK=http://127.0.0.1:$(cat "$DEMO_HOME/hook.port")/hook
echo "node API at $URL, webhook at $HOOK"

say "2. acme registers itself (5 ASC micro-units per accepted reading); two patients enrolled"
x monitor provider acme --key acme --price 5
if out=$(x monitor provider acme --key oncall --price 50 2>&1); then
	echo "NOT refused: a stranger took acme's name"; exit 1
fi
echo "refused (another key registering acme): $out"
# p1: by the institution (the node's key) with p1's consent; p2: by p2 with their own key
x monitor enrol p1 --contract "$ROOT/examples/contracts/chronic_risk.pf" --clinician drsmith \
	--second oncall --webhook "$HOOK" --deadline 600 --patient-key p1
x monitor enrol p2 --contract "$ROOT/examples/contracts/chronic_risk.pf" --clinician drsmith \
	--second oncall --webhook "$HOOK" --deadline 2 --patient-key p2 --by p2

say "3. acme sends a signed NDJSON batch (the last two readings are refused)"
NOW=$(($(date +%s) * 1000 - 60000))
WHEN=$(date -u -d "@$((NOW / 1000))" +%Y-%m-%dT%H:%M:%SZ)
cat >"$DEMO_HOME/batch.ndjson" <<NDJSON
{"patient":"p1","code":"85354-9","value":[165,95],"time":$NOW}
{"patient":"p1","code":"8867-4","value":74,"time":$NOW}
{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"effectiveDateTime":"$WHEN","valueQuantity":{"value":48,"unit":"mg/dL"}}
{"patient":"p2","code":"59408-5","value":93,"time":$NOW}
{"patient":"p2","code":"8867-4","value":300,"time":$NOW}
{"patient":"p1","code":"8867-4","value":74,"time":$NOW}
NDJSON
x monitor readings "$DEMO_HOME/batch.ndjson" --provider acme --key acme --json |
	python3 -c 'import json,sys
for r in json.load(sys.stdin)["results"]:
    w = r.get("warning")
    print(r["index"], r["status"], r.get("error", ""), r.get("message", ""),
          w["grade"] + ": " + "; ".join(w["reasons"]) if w else "")'

say "3b. A wearable (provider wearco, a member key of the institution) posts to /fhir"
mkdir -p "$DEMO_HOME/fhir"
python3 - "$URL" "$DEMO_HOME/fhir/members" "$NOW" <<'PY'
import hashlib, json, sys, time, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
url, members, now = sys.argv[1], sys.argv[2], int(sys.argv[3]) + 30000
sk = Ed25519PrivateKey.from_private_bytes(b"\x57" * 32)
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
open(members, "a").write(pk + "\n")
def post(path, body, headers):
    r = urllib.request.Request(url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(r) as f:
            return f.status, json.load(f)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
t = int(time.time())
msg = ("LEBEN-monitor-provider-v1\nwearco\n%s\n4\n%d" % (pk, t)).encode()
reg = {"name": "wearco", "key": pk, "price": 4, "time": t, "sig": sk.sign(msg).hex()}
print("register wearco:", post("/v1/monitor/providers", json.dumps(reg).encode(),
                               {"Content-Type": "application/json"}))
iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000))
def obs(code, v):
    return {"resource": {"resourceType": "Observation", "status": "final",
                         "subject": {"reference": "Patient/p1"}, "effectiveDateTime": iso,
                         "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                         "valueQuantity": {"value": v}},
            "request": {"method": "POST", "url": "Observation"}}
bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
    {"resource": {"resourceType": "Patient", "id": "p1"},
     "request": {"method": "PUT", "url": "Patient/p1"}},
    obs("59408-5", 89), obs("2339-0", 310)]}
body = json.dumps(bundle).encode()
bh = hashlib.blake2b(body, digest_size=32).hexdigest()
d = hashlib.blake2b(("LEBEN-fhir-v1\nPOST\n/fhir\n%d\n%s" % (t, bh)).encode(),
                    digest_size=32).digest()
st, j = post("/fhir", body, {"Content-Type": "application/fhir+json", "X-Leben-Key": pk,
                             "X-Leben-Time": str(t), "X-Leben-Signature": sk.sign(d).hex()})
print("POST /fhir (Patient + SpO2 89 % + glucose 310 mg/dL):", st, j.get("type"))
PY
x monitor outbox --patient p1 --json | python3 -c 'import json,sys
for o in json.load(sys.stdin)["outbox"]:
    print(o["id"], o["grade"], o["state"], "; ".join(json.loads(o["reasons"]) if isinstance(o["reasons"], str) else o["reasons"]))'

say "4. The webhook gets each warning after two refused attempts"
i=0
until [ "$(grep -c -- '-> 200' "$DEMO_HOME/hook.log" 2>/dev/null || true)" -ge 3 ]; do
	i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.2
done
cat "$DEMO_HOME/hook.log"

say "5. drsmith acknowledges p1's critical warning (signed)"
ID=$(x monitor outbox --patient p1 --state open --json | python3 -c 'import json,sys
print([o["id"] for o in json.load(sys.stdin)["outbox"] if o["grade"] == "critical"][0])')
x monitor ack "$ID" --key drsmith

say "6. p2's warning is not acknowledged within 2 s: escalated to oncall at a higher grade"
sleep 3
x monitor outbox --patient p2 --json | python3 -c 'import json,sys
for o in json.load(sys.stdin)["outbox"]:
    print(o["id"], o["grade"], o["state"], "to", o["recipient"][:16] + "...",
          "(escalated from %s)" % o["escalated_from"] if o["escalated_from"] else "")'

say "7. Settle: acme's and wearco's accepted readings on the business chain (count x price)"
x monitor settle
sleep 1
x monitor status
