"""The one-node target: a real `leben node` (fresh home) holding the 200-patient table, its
owner (clinic) publishing and offering it with min cohort 10, built-ins on the allow-list;
alice is the attacker (a data user paying escrows), mallory a stranger, bob a third party."""

import json
import os
import re

from common import (MIN_COHORT, Node, Target, Truth, make_table, run_cli, write_csv)

# how an offer may state an opt-out legal basis (the first the CLI accepts is used)
LEGAL_BASIS = "cardiology registry act: secondary use for research, patients may object"
OPT_OUT_FLAGS = (["--opt-out", "--legal-basis", LEGAL_BASIS], ["--opt-out"],
                 ["--consent", "opt-out"], ["--legal-basis", "opt-out"])

EXTRA_KEYS = ("mallory", "patient23", "patient32", "patient33", "patient41", "registry")
# the patients whose own keys the suite holds; the owner registers every other patient with
# the registry's key (a patient who never asked for a key of its own)
PATIENT_KEYS = {"P23": "patient23", "P32": "patient32", "P33": "patient33", "P41": "patient41"}


def start_node(work, interval_ms=50):
    node = Node()
    cfg = os.path.join(node.home, "config.json")
    with open(cfg) as f:
        c = json.load(f)
    c["block_interval_ms"] = interval_ms
    with open(cfg, "w") as f:
        json.dump(c, f)
    node.start()
    for k in EXTRA_KEYS:
        run_cli(["keys", "new", k, "--home", node.home])
    return node


def must(r, what):
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (what, r.returncode, r.stdout[-1500:],
                                                    r.stderr[-1500:]))
    return r


def cli_json(node, args):
    r = node.cli(args + ["--json"])
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


def offer(node, regtx, data, allow, notes, price="1"):
    """Offer with min cohort 10. The patients' legal basis here is an opt-out registry
    (every patient is used unless they object), as far as the platform lets an offer say so:
    `--opt-out` where it exists, else the plain offer (today's default, opt-out)."""
    base = ["exchange", "offer", "--from", "clinic", "--asset-tx", regtx, "--price", price,
            "--min-cohort", str(MIN_COHORT), "--data", data]
    if allow:
        base += ["--allow", ",".join(allow)]
    for flag in OPT_OUT_FLAGS:
        r, off = cli_json(node, base + flag)
        if r.returncode == 0 and off:
            notes.append("offer %s accepted" % " ".join(flag))
            return off["asset"], True
    r, off = cli_json(node, base)
    must(r, "exchange offer")
    notes.append("offer without --opt-out (%s)" % (r.stderr.strip()[:80] or "no such flag"))
    return off["asset"], False


def register_patients(node, asset, rows, notes, data=None):
    """The owner registers each patient's consent key under its salted commitment, as an owner
    would when the data is offered (`leben exchange patients`); older forms are tried too."""
    help_ = node.cli(["exchange", "--help"]).stdout
    if re.search(r"^\s+patients\s", help_, re.M):
        keys = os.path.join(node.home, "patient-keys-%s.csv" % asset[:8])
        with open(keys, "w") as fh:
            fh.write("local_id,address\n" + "".join(
                "%s,%s\n" % (r["patient_id"], PATIENT_KEYS.get(r["patient_id"], "registry"))
                for r in rows))
        f = data or os.path.join(node.home, "patients.csv")
        if not data:
            with open(f, "w") as fh:
                fh.write("patient_id\n" + "".join(r["patient_id"] + "\n" for r in rows))
        for args in (["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", f,
                      "--keys", keys, "--out", os.path.join(node.home, "cards-" + asset[:8])],
                     ["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", f],
                     ["exchange", "patients", "--from", "clinic", "--asset", asset, "--file", f]):
            r = node.cli(args)
            if r.returncode == 0:
                notes.append("patients registered: " + " ".join(args[1:2]))
                return True
        notes.append("exchange patients exists but refused our forms: " + r.stderr.strip()[:120])
    return False


def setup(work):
    """Start the node, publish and offer the table; returns the Target."""
    rows = make_table()
    truth = Truth(rows)
    node = start_node(work)
    data = os.path.join(work, "patients.csv")
    write_csv(data, rows)
    notes = []
    r, pub = cli_json(node, ["data", "add", data, "--key", "clinic", "--price", "1", "--name",
                             "cardiology registry 2020-2025", "--private",
                             "basic.description", "--description",
                             "200 patients of the cardiology registry, outcome at 5 years",
                             "--readers", "alice"])
    must(r, "data add")
    must(node.cli(["tx", "identity", "--from", "clinic", "--role", "provider", "--name",
                   "St. Anna", "--wait"]), "identity")
    must(node.cli(["tx", "transfer", "--from", "clinic", "--to", "node", "--asset", "csc",
                   "--amount", "100", "--wait"]), "fund the executor")
    for who in ("mallory", "bob"):
        node.cli(["tx", "transfer", "--from", "bank" if who == "mallory" else "clinic", "--to",
                  who, "--asset", "csc", "--amount", "10", "--wait"])
    # built-ins belong to the platform in the new design; today someone registers them (the
    # owner here, fee 0); a refusal is fine
    for b in ("stats", "km"):
        node.cli(["exchange", "algo", "--from", "clinic", "--builtin", b, "--fee", "0"])
    asset, optout = offer(node, pub["tx"], data, ["builtin:stats", "builtin:km"], notes)
    must(node.cli(["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor",
                   "node"]), "grant")
    register_patients(node, asset, rows, notes, data)
    # a second asset (20 of the patients) offered with the platform's default consent rule
    # and nobody's consent on record; a third one registered and never offered
    optin = os.path.join(work, "subset.csv")
    write_csv(optin, rows[:20])
    r, pub2 = cli_json(node, ["data", "add", optin, "--key", "clinic", "--price", "1",
                              "--name", "registry extract", "--allow-near"])
    must(r, "data add (subset)")
    unoff = os.path.join(work, "unoffered.csv")
    write_csv(unoff, rows[20:40])
    r, pub3 = cli_json(node, ["data", "add", unoff, "--key", "clinic", "--price", "1",
                              "--name", "registry extract 2", "--allow-near"])
    must(node.cli(["tx", "identity", "--from", "bob", "--role", "data-contributor", "--name",
                   "Bob", "--wait"]), "a business block after the registrations")
    base = ["exchange", "offer", "--from", "clinic", "--asset-tx", pub2["tx"], "--price", "1",
            "--min-cohort", str(MIN_COHORT), "--data", optin, "--allow", "builtin:stats"]
    r, off2 = cli_json(node, base)
    must(r, "offer (subset)")
    must(node.cli(["exchange", "grant", "--from", "clinic", "--asset", off2["asset"],
                   "--executor", "node"]), "grant (subset)")
    t = Target(node, data, asset, work, truth)
    t.optin_asset, t.optin_data = off2["asset"], optin
    t.unoffered_asset = pub3.get("asset_id") if pub3 else None
    t.data_tx = pub["tx"]
    t.data_asset = pub.get("asset_id")
    t.opt_out = optout
    t.notes = notes
    return t
