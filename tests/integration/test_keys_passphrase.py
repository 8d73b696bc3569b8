#!/usr/bin/env python3
"""`leben keys passphrase NAME` re-encrypts every keystore file kept under a key's passphrase
(the key, its ABE master key keys/NAME.abemsk, its ABE keys abe/keys/NAME/*.abekey) through a
real node (docs/security.md, "Passphrase change").

Attacks first: a wrong current passphrase is refused with every file byte-for-byte as it was;
then the change: the files open with the new passphrase and not the old one, the key bytes
are unchanged (a ciphertext sealed before the change still opens, the master key still issues
keys); a home left half-way (the key under the old passphrase, its master key under the new
one, as after `keys recover` or a change that stopped) is finished by running it again."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, PASSPHRASE, env, run_node  # noqa: E402

NEW = "a-new-passphrase-for-the-home"


def cli(node, args, old, new=None):
    e = env()
    e["LEBEN_PASSPHRASE"] = old
    if new is not None:
        e["LEBEN_NEW_PASSPHRASE"] = new
    extra = ["--home", node.home] + ([] if args[0] == "keys" else ["--node", node.url])
    return subprocess.run([BIN] + args + extra,
                          capture_output=True, text=True, env=e, timeout=300)


def files(node, auth):
    names = [os.path.join(node.home, "keys", n) for n in ("node.key", "node.abemsk",
                                                          "carol.key")]
    names.append(os.path.join(node.home, "abe", "keys", "carol", auth + ".abekey"))
    out = {}
    for n in names:
        with open(n, "rb") as f:
            out[n] = f.read()
    return out


def run(t, node):
    tmp = node.home
    r = cli(node, ["keys", "new", "carol"], PASSPHRASE)
    t.eq(r.returncode, 0, "key carol " + r.stderr)
    r = cli(node, ["abe", "setup", "--json"], PASSPHRASE)
    if not t.eq(r.returncode, 0, "the node's key becomes an attribute authority " + r.stderr):
        return
    auth = json.loads(r.stdout)["authority"]
    kf = os.path.join(tmp, "carol.issued")
    r1 = cli(node, ["abe", "keygen", "--user", "carol", "--attrs", "doctor", "--out", kf],
             PASSPHRASE)
    r2 = cli(node, ["abe", "import", kf, "--key", "carol"], PASSPHRASE)
    t.ok(r1.returncode == 0 and r2.returncode == 0, "carol holds an ABE key for doctor",
         r1.stderr + r2.stderr)
    plain = os.path.join(tmp, "note.txt")
    with open(plain, "w") as f:
        f.write("sealed before the change\n")
    ct = os.path.join(tmp, "note.abe")
    r = cli(node, ["abe", "encrypt", "--policy", "doctor", "--in", plain, "--out", ct],
            PASSPHRASE)
    t.eq(r.returncode, 0, "a note sealed to doctor " + r.stderr)

    # ---- attacks: wrong current passphrase, same passphrase, no new one given ---------------
    before = files(node, auth)
    for key in ("carol", "node"):
        r = cli(node, ["keys", "passphrase", key], "not-the-passphrase", NEW)
        t.ok(r.returncode == 1 and "opens with neither" in r.stderr,
             "a wrong current passphrase for %s is refused" % key, r.stderr)
    r = cli(node, ["keys", "passphrase", "carol"], PASSPHRASE, PASSPHRASE)
    t.ok(r.returncode == 1 and "the current one" in r.stderr,
         "the same passphrase again is refused", r.stderr)
    r = cli(node, ["keys", "passphrase", "carol"], PASSPHRASE)
    t.ok(r.returncode == 1 and "LEBEN_NEW_PASSPHRASE" in r.stderr,
         "no new passphrase given: refused", r.stderr)
    r = cli(node, ["keys", "passphrase", "nobody"], PASSPHRASE, NEW)
    t.ok(r.returncode == 1 and "no such key" in r.stderr, "an unknown key is refused", r.stderr)
    t.ok(files(node, auth) == before, "every refusal left every keystore file as it was")

    # ---- the change ----------------------------------------------------------------------
    r = cli(node, ["keys", "passphrase", "carol", "--json"], PASSPHRASE, NEW)
    t.eq(r.returncode, 0, "carol's passphrase changed " + r.stderr)
    j = json.loads(r.stdout or "{}")
    t.eq(sorted(os.path.basename(f["file"]) for f in j.get("files", []) if f["changed"]),
         sorted(["carol.key", auth + ".abekey"]), "her key and her ABE key were re-encrypted")
    after = files(node, auth)
    t.ok(all(after[f] != before[f] for f in after if "carol" in f), "both files changed")
    out = os.path.join(tmp, "note.out")
    r = cli(node, ["abe", "decrypt", "--key", "carol", "--in", ct, "--out", out], NEW)
    t.ok(r.returncode == 0 and open(out).read() == "sealed before the change\n",
         "the note sealed before the change opens with the new passphrase (key bytes "
         "unchanged)", r.stderr)
    r = cli(node, ["abe", "decrypt", "--key", "carol", "--in", ct], PASSPHRASE)
    t.ok(r.returncode == 1 and "passphrase" in r.stderr, "... and not with the old one",
         r.stderr)

    # the authority's master key; then a home left half-way (the key file as before)
    r = cli(node, ["keys", "passphrase", "node"], PASSPHRASE, NEW)
    t.eq(r.returncode, 0, "the node key's passphrase changed, its master key too " + r.stderr)
    r = cli(node, ["abe", "keygen", "--user", "carol", "--attrs", "doctor,nurse", "--out",
                   kf], PASSPHRASE)
    t.eq(r.returncode, 1, "the master key no longer opens with the old passphrase")
    nk = os.path.join(node.home, "keys", "node.key")
    with open(nk, "wb") as f:
        f.write(before[nk])  # the key under the old passphrase, its master key under the new
    r = cli(node, ["keys", "passphrase", "node", "--json"], PASSPHRASE, NEW)
    j = json.loads(r.stdout or "{}")
    t.ok(r.returncode == 0 and [f["changed"] for f in j.get("files", [])] == [True, False],
         "run again, it finishes a half-way home (the key moved, the master key left)",
         r.stdout + r.stderr)
    r = cli(node, ["abe", "keygen", "--user", "carol", "--attrs", "doctor,nurse", "--out",
                   kf], NEW)
    t.eq(r.returncode, 0, "the master key issues keys under the new passphrase " + r.stderr)


if __name__ == "__main__":
    run_node(run)
