#!/usr/bin/env python3
"""Known-answer vectors for the security toolkit's business-chain payloads, written from
docs/wire-format.md with the python standard library only (independent of the C encoders):
NAME.in holds the tx type id and the payload in hex, NAME.exp the JSON view the node must
show for it (/v1/txs/ID "payload"). Run from this directory; the outputs are committed."""

import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lebentest import address_of, bech32m_encode  # noqa: E402


def uvar(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def blob(b):
    return uvar(len(b)) + b


def write(name, type_id, payload, exp):
    with open(name + ".in", "w") as f:
        f.write("0x%04x\n%s\n" % (type_id, payload.hex()))
    with open(name + ".exp", "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
        f.write("\n")


def b(i, n=32):
    return bytes([i]) * n


# keys.guardians: 2 of 3
acct = b(0x11)
guards = [b(0x21), b(0x22), b(0x23)]
rec = bytes([1]) + acct + b(0xBB, 16) + b(0xCC) + bytes([2, 3])
rec += b"".join(g + bytes([x]) for g, x in zip(guards, (7, 9, 200)))
write("guardians", 0x0320, rec, {
    "account": address_of(acct), "public_key": acct.hex(), "set_id": b(0xBB, 16).hex(),
    "commitment": b(0xCC).hex(), "threshold": 2, "guardians_count": 3,
    "guardians": [{"public_key": g.hex(), "address": address_of(g), "x": x}
                  for g, x in zip(guards, (7, 9, 200))]})

# keys.recovery: the ristretto255 base point as commitment
X = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
salt = bytes(range(16))
write("recovery", 0x0321, bytes([1]) + struct.pack(">II", 3, 65536) + salt + X, {
    "opslimit": 3, "memlimit_kib": 65536, "salt": salt.hex(), "commitment": X.hex()})

# keys.reset: account address bytes, new key, reset nonce 258, proof bytes
addr = hashlib.blake2b(b"LEBEN-addr-v1\0" + acct, digest_size=32).digest()[:20]
newk = b(0x44)
proof = bytes(range(64))
write("reset", 0x0322, bytes([1, 20]) + addr + newk + struct.pack(">Q", 258) + proof, {
    "account": bech32m_encode("lb", addr), "new_key": newk.hex(),
    "new_key_address": address_of(newk), "reset_nonce": 258, "proof": proof.hex()})

# policy.set: 2 of 3 sorted owners, start 5, 3 blocks per period; first without approval,
# then an update with a (syntactically shaped) multi-signature
owners = [b(0x01), b(0x02), b(0x03)]
pol = bytes([1, 2, 3]) + b"".join(owners) + struct.pack(">QQ", 5, 3)
asset = b(0xA5)
view = {"asset": asset.hex(), "threshold": 2, "owners": [o.hex() for o in owners],
        "start_height": 5, "epoch_blocks": 3, "update": False}
write("policy_set", 0x0323, bytes([1]) + asset + blob(pol) + blob(b""), view)
msig = bytes([1]) + struct.pack(">I", 4) + bytes([2]) + bytes([0]) + b(0x55, 448) + bytes([2]) + b(0x66, 448)
write("policy_set_update", 0x0323, bytes([1]) + asset + blob(pol) + blob(msig),
      dict(view, update=True))

# policy.approve: a text act; the digest is BLAKE2b-256("LEBEN co-owner act v1" | asset | act)
act = "grant execution of asset a5 to lb1example".encode()
digest = hashlib.blake2b(b"LEBEN co-owner act v1" + asset + act, digest_size=32).digest()
write("policy_approve", 0x0324, bytes([1]) + asset + blob(act) + blob(msig), {
    "asset": asset.hex(), "act": act.decode(), "act_digest": digest.hex(), "signatures": 2})
