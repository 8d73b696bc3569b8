#!/bin/sh
# Application 3: a cohort study with ethical review (docs/apps.md section 3).
#
#   examples/apps/cohort.sh               # on the three-institution consortium (scripts/cluster.sh up 3)
#   examples/apps/cohort.sh consortium    # the same
#   examples/apps/cohort.sh local         # on this machine alone: the sponsor's institution's
#                                         # node and a second owner institution's node started
#                                         # beside it (scripts/cluster.sh up 2), so the rounds'
#                                         # federated analysis runs (secure aggregation needs
#                                         # at least two owners' nodes: their masks cancel)
#   NODES=1 examples/apps/cohort.sh       # one node only: everything but the analysis
#   KEEP=1 CLUSTER=DIR examples/apps/cohort.sh ...  # leave the nodes running in DIR at the end
#
# An ethics committee (three members, two approvals needed) is registered; alice, the
# sponsor, files a protocol (inclusion criteria, the algorithm and its parameters, two
# follow-up rounds); runs and opt-ins are refused until two members approved; the directory
# shows which assets match the criteria; patients opt in with the consent keys their
# institution registered; each round is opened on schedule and, on the consortium, runs as a
# study across the three institutions' nodes over the opted-in patients only; a patient
# withdraws and the next round leaves it out. Each round's combined result is printed and
# kept in $CLUSTER/round-N.json. With NODES=1 everything but the federated analysis runs.
# Needs build/leben and etcd (scripts/deps.sh --test).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEBEN=${LEBEN:-$ROOT/build/leben}
export LEBEN_BIN=$LEBEN
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-cluster}
# the patients each institution invites (H<i>_0 ...): a round's combined result is released
# only over at least 10 patients (the study's minimum cohort), also after a withdrawal
case "${1:-consortium}" in
local) NODES=${NODES:-2} INVITED="0 1 2 3 4 5" ;;
consortium) NODES=${NODES:-3} INVITED="0 1 2 3" ;;
*) echo "usage: examples/apps/cohort.sh [local|consortium]" >&2; exit 2 ;;
esac
CLUSTER=${CLUSTER:-$(mktemp -d /tmp/leben-cohort.XXXXXX)}

say() { printf '\n== %s\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
url() { eval echo "\$NODE_API_$1"; }
# at institution I: leben ... --home node-I --node URL-I
at() { _at=$1; shift; "$LEBEN" "$@" --home "$CLUSTER/node-$_at" --node "$(url "$_at")"; }
# the people's keys (committee members, patients) live in node-1's home
as() { _as=$1; shift; "$LEBEN" "$@" --home "$CLUSTER/node-1" --node "$(url "$_as")"; }
refused() { # the command must fail; show its reason
	if "$@" >/dev/null 2>"$CLUSTER/err"; then echo "UNEXPECTED: accepted" >&2; exit 1; fi
	sed 's/^/   refused: /' "$CLUSTER/err"
}

say "1. $NODES institution(s) on this machine"
"$ROOT/scripts/cluster.sh" up "$NODES" "$CLUSTER"
if [ -z "${KEEP:-}" ]; then
	trap '"$ROOT/scripts/cluster.sh" down "$CLUSTER" >/dev/null' EXIT
fi
# shellcheck disable=SC1091
. "$CLUSTER/cluster.env"
ALICE=$("$LEBEN" keys show alice --home "$CLUSTER/node-1" --json | field '["address"]')
at 1 tx transfer --from clinic --to "$ALICE" --amount 20 --asset csc --wait >/dev/null
for m in e1 e2 e3 stranger; do "$LEBEN" keys new "$m" --home "$CLUSTER/node-1" >/dev/null; done

say "2. Each institution's table of patients, registered, offered and kept on its node"
OWNERS="" ASSETS=""
for i in $(seq 1 "$NODES"); do
	if [ "$i" = 1 ]; then OWNER=clinic; else OWNER=node; fi
	N=$("$LEBEN" keys show node --home "$CLUSTER/node-$i" --json | field '["address"]')
	for a in csc asc; do at 1 tx transfer --from clinic --to "$N" --amount 20 --asset $a --wait >/dev/null; done
	DATA=$CLUSTER/bp$i.csv
	{
		echo "patient_id,age,sbp"
		for n in 0 1 2 3 4 5 6 7 8 9; do echo "H${i}_$n,$((45 + n * 3 + i)),$((120 + n * 4 - i))"; done
	} >"$DATA"
	REG=$(at "$i" data add "$DATA" --key $OWNER --price 0 --name "hypertension cohort part $i" --allow-near --json | field '["tx"]')
	at "$i" tx identity --from $OWNER --role provider --name "institution-$i" --wait >/dev/null
	A=$(at "$i" exchange offer --from $OWNER --asset-tx "$REG" --price 0 --min-cohort 3 --data "$DATA" \
		--opt-out --legal-basis "research under an ethics committee's approval; opt-in per study" --json | field '["asset"]')
	mkdir -p "$CLUSTER/node-$i/exchange/assets" && cp "$DATA" "$CLUSTER/node-$i/exchange/assets/$A.csv"
	[ "$i" = 1 ] && at 1 exchange grant --from clinic --asset "$A" --executor "$N" --kind own >/dev/null
	# the patients it invites, each with a consent key (their opening cards go to them)
	echo "local_id,address" >"$CLUSTER/keys$i.csv"
	for n in $INVITED; do
		"$LEBEN" keys new "p${i}_$n" --home "$CLUSTER/node-1" >/dev/null
		echo "H${i}_$n,$("$LEBEN" keys show "p${i}_$n" --home "$CLUSTER/node-1" --json | field '["address"]')" >>"$CLUSTER/keys$i.csv"
	done
	at "$i" exchange patients --from $OWNER --asset "$A" --data "$DATA" --keys "$CLUSTER/keys$i.csv" \
		--out "$CLUSTER/cards$i" >/dev/null
	for n in $INVITED; do at "$i" exchange opening --asset "$A" --patient "H${i}_$n" --out "$CLUSTER/card-H${i}_$n.json" >/dev/null; done
	echo "institution-$i: asset $A (10 patients, $(echo $INVITED | wc -w) invited)"
	OWNERS="$OWNERS${OWNERS:+,}$(url "$i")" ASSETS="$ASSETS $A"
done

say "3. The ethics committee: e1, e2, e3; two approvals needed"
CM=$(at 1 cohort committee --from clinic --name "regional ethics board" --members e1,e2,e3 --k 2 --json | field '["committee"]')
echo "committee $CM"

say "4. Alice files the protocol (ResearchStudy): criteria, algorithm by hash, follow-up schedule"
cat >"$CLUSTER/protocol.json" <<JSON
{"title": "Blood pressure follow-up in hypertension",
 "criteria": {"q": "hypertension cohort"},
 "algorithms": [{"algorithm": "stats", "params": {"columns": ["age", "sbp"]}}],
 "schedule": {"start_height": 0, "interval_blocks": 2, "rounds": 2}}
JSON
OUT=$(at 1 cohort create --from alice --name bp-followup --committee "$CM" --protocol "$CLUSTER/protocol.json" --json)
C=$(echo "$OUT" | field '["cohort"]')
HASH=$(echo "$OUT" | field '["protocol_hash"]')
echo "cohort $C, protocol hash $HASH"

say "5. Nothing runs before approval"
refused at 1 cohort round --from alice --cohort "$C"
refused as 1 cohort approve --from stranger --cohort "$C"
refused as 1 cohort optin --from p1_0 --cohort "$C" --opening "$CLUSTER/card-H1_0.json"

say "6. e1 approves what it read; one approval is not enough; e2 approves"
as 1 cohort approve --from e1 --cohort "$C" --protocol-hash "$HASH"
refused at 1 cohort round --from alice --cohort "$C"
as "$NODES" cohort approve --from e2 --cohort "$C" --protocol-hash "$HASH"

say "7. Recruitment: the assets matching the criteria; patients opt in with their consent keys"
at 1 cohort recruit --cohort "$C"
refused as 1 cohort optin --from stranger --cohort "$C" --opening "$CLUSTER/card-H1_0.json"
for i in $(seq 1 "$NODES"); do
	for n in $INVITED; do as 1 cohort optin --from "p${i}_$n" --cohort "$C" --opening "$CLUSTER/card-H${i}_$n.json" >/dev/null; done
done
at 1 cohort status --cohort "$C" --json | field '["opted_in"]' | sed 's/^/opted in: /'

requests() { # alice's request at each owner, approved by the owner
	R=""
	i=0
	for A in $ASSETS; do
		i=$((i + 1))
		if [ "$i" = 1 ]; then OWNER=clinic; else OWNER=node; fi
		Q=$(at 1 exchange request --from alice --asset "$A" --algorithm builtin:stats \
			--params '{"columns":["age","sbp"]}' --purpose "cohort $C round" --json | field '["tx"]')
		at "$i" exchange approve --from $OWNER --request "$Q" >/dev/null
		R="$R${R:+,}$Q"
	done
	echo "$R"
}
round() { # round() N
	if [ "$NODES" -ge 2 ]; then
		at 1 cohort round --from alice --cohort "$C" --owners "$OWNERS" --requests "$(requests)" \
			--compute-fee 0.01 --json >"$CLUSTER/round-$1.json"
		python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['result']; print(json.dumps(r, indent=1, sort_keys=True))" \
			"$CLUSTER/round-$1.json"
	else
		at 1 cohort round --from alice --cohort "$C"
		echo "(one node: the round is open; its federated analysis needs two or more owner nodes)"
	fi
}

say "8. Round 1 over the opted-in patients only"
round 1

say "9. Patient H1_0 withdraws: honoured from the next round"
as 1 cohort withdraw --from p1_0 --cohort "$C" --opening "$CLUSTER/card-H1_0.json"

say "10. Round 2 (the follow-up) without H1_0"
round 2
refused at 1 cohort round --from alice --cohort "$C"

say "11. The study as a FHIR R4 ResearchStudy"
at 1 cohort status --cohort "$C" --fhir
