#!/usr/bin/env python3
"""`leben market claim` (market.patient.claim, docs/economy.md §3) through a real node: a study
of a clinic's table with consented patients runs and its escrow is released under a market
section, so the patients' share waits in the clinic's patient pool; attacks first (a stranger
claiming a patient's share, the registration cited as the exec, bad arguments), each refused
with its error and the pool untouched; then the patient claims its share (figures computed
here: share = floor(data fee x 20 % / records used)) and a second claim is refused."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import addr_bytes, address_of, run_cli, run_node  # noqa: E402
from test_exchange_consent import commit, offer_asset, register, run_once  # noqa: E402
from test_market import blake2b_pool  # noqa: E402

M = 1000000
PRICE = 2 * M          # the offer's price: the escrow's data fee
PATIENTS_PPM = 200000  # the default data-run table's patients share


def main():
    def genesis(g, node):
        g["market"] = {"platform": address_of(b"\x12" * 32), "period_blocks": 1000}
    run_node(run, genesis=genesis, tmp="leben-claim-", demo=True)


def run(t, node, tmp):
    for k in ("patient1", "stranger", "patients"):
        r = run_cli(["keys", "new", k, "--home", node.home])
        t.ok(r.returncode == 0, "key %s created" % k, r.stderr)
    for k in ("node", "patient1", "stranger"):  # CSC for their fees
        node.cli(["tx", "transfer", "--from", "clinic", "--to", k, "--asset", "csc", "--amount",
                  "5", "--wait"])
    rows = [("P%d" % n, 30 + 2 * n, 110 + 3 * n) for n in range(1, 7)]
    data, asset, _ = offer_asset(t, node, tmp, "claims", rows)
    keys = {"P1": "patient1"}
    keys.update({"P%d" % n: "patients" for n in range(2, 7)})
    cards = register(t, node, tmp, asset, data, keys, "the clinic registers six consent keys")
    for local, k in keys.items():
        r = node.cli(["exchange", "consent", "--from", k, "--opening", cards[local]])
        t.ok(r.returncode == 0, "%s consents" % local, r.stdout + r.stderr)
    st, log = node.get("/v1/exchange/log/" + asset)
    reg_txs = [e for e in log.get("events", []) if e["type"] == "xchg.patients"]
    t.ok(len(reg_txs) >= 1, "the registration is in the asset's history", log)
    reg_tx = reg_txs[0]["tx"] if reg_txs else ""

    clinic = node.address("clinic")
    pool = blake2b_pool(addr_bytes(clinic))

    def pool_asc():
        return (node.account(pool).get("balances") or {}).get("asc", 0)

    p0 = pool_asc()
    req, used, result, res = run_once(t, node, asset, data, "a study of the clinic's table")
    n_used = res.get("patients_used", 0) if res else 0
    t.eq(n_used, 6, "all six consented records used")
    share_all = PRICE * PATIENTS_PPM // M
    t.eq(pool_asc() - p0, share_all, "the release put the patients' 20 % in the clinic's pool")
    exec_tx = res["exec_tx"]
    # a settlement block after the business blocks: the proofs' anchor
    node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "0.000001",
              "--wait"])
    cm = commit(node.home, asset, "P1")
    base = ["market", "claim", "--exec", exec_tx, "--registration", reg_tx, "--commitment", cm,
            "--wait"]

    # ---- attacks and bad input: refused, the pool untouched ---------------------------------
    before = pool_asc(), node.account(node.address("stranger")).get("balances")
    r = node.cli(base[:2] + ["--from", "stranger", "--exec", exec_tx])
    t.ok(r.returncode == 2 and "--registration" in r.stderr, "a claim without the "
         "registration refused by the CLI", r.stderr)
    r = node.cli(["market", "claim", "--exec", exec_tx, "--registration", reg_tx,
                  "--commitment", "zz", "--from", "stranger"])
    t.ok(r.returncode == 2 and "64 hex digits" in r.stderr, "a malformed commitment refused",
         r.stderr)
    r = node.cli(base + ["--from", "stranger"])
    t.ok(r.returncode != 0 and "only that key claims" in r.stdout + r.stderr,
         "a stranger claiming patient 1's share refused (EUNAUTH)", r.stdout + r.stderr)
    r = node.cli(["market", "claim", "--exec", reg_tx, "--registration", reg_tx,
                  "--commitment", cm, "--from", "patient1", "--wait"])
    t.ok(r.returncode != 0 and "xchg.exec" in r.stdout + r.stderr,
         "the registration cited as the exec refused", r.stdout + r.stderr)
    r = node.cli(["market", "claim", "--exec", exec_tx, "--registration", reg_tx,
                  "--commitment", "ab" * 32, "--from", "patient1", "--wait"])
    t.ok(r.returncode != 0, "a commitment the exec did not use refused", r.stdout + r.stderr)
    after = pool_asc(), node.account(node.address("stranger")).get("balances")
    t.eq(after[0], before[0], "the pool is untouched by the refusals")
    t.eq(after[1], before[1], "the stranger received nothing (refused txs pay no fee)")

    # ---- the patient's claim ------------------------------------------------------------------
    a0 = (node.account(node.address("patient1")).get("balances") or {}).get("asc", 0)
    r, j = node.cli_json(base + ["--from", "patient1"])
    t.ok(r.returncode == 0 and j and j.get("status") == "committed",
         "patient 1 claims its share (--json)", r.stdout + r.stderr)
    each = share_all // n_used  # one record of six
    a1 = (node.account(node.address("patient1")).get("balances") or {}).get("asc", 0)
    t.eq(a1 - a0, each, "patient 1 received floor(400000 / 6) micro-ASC")
    t.eq(before[0] - pool_asc(), each, "the clinic's patient pool paid it")
    r = node.cli(base + ["--from", "patient1"])
    t.ok(r.returncode != 0 and "already claimed" in r.stdout + r.stderr,
         "a second claim refused", r.stdout + r.stderr)
    t.eq(before[0] - pool_asc(), each, "the pool paid once")
    r = node.cli(["market", "claim", "--help"])
    t.ok(r.returncode == 0 and "market.patient.claim" in r.stdout, "claim has a --help",
         r.stderr)


if __name__ == "__main__":
    main()
