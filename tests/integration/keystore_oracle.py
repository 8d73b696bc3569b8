"""An oracle for LEBEN keystore secrets (docs/security.md §11) independent of LEBEN's code and
of libsodium: Argon2id by @noble/hashes (tests/oracles), XChaCha20-Poly1305 as HChaCha20
(written here) + python's ChaCha20-Poly1305 (cryptography)."""
import json
import os
import subprocess

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

ORACLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracles")


def argon2id_many(jobs):
    """Argon2id as libsodium's crypto_pwhash (one lane, m bytes) for each (passphrase, salt, t,
    m) of jobs, in one node process."""
    js = ('const {argon2id}=require("@noble/hashes/argon2");const a=JSON.parse(process.argv[1]);'
          'for(const j of a)console.log(Buffer.from(argon2id(j.p,Buffer.from(j.s,"hex"),{t:j.t,'
          'm:j.m,p:1,dkLen:32})).toString("hex"))')
    arg = [{"p": p, "s": s.hex(), "t": t, "m": m // 1024} for p, s, t, m in jobs]
    r = subprocess.run(["node", "-e", js, json.dumps(arg)], capture_output=True, text=True,
                       cwd=ORACLES, timeout=300)
    if r.returncode:
        raise RuntimeError("argon2id oracle: " + r.stderr[-300:])
    return [bytes.fromhex(x) for x in r.stdout.split()]


def argon2id(passphrase, salt, t, m):
    return argon2id_many([(passphrase, salt, t, m)])[0]


def _hchacha20(key, nonce16):
    """HChaCha20 (draft-irtf-cfrg-xchacha)."""
    def rotl(v, c):
        return ((v << c) & 0xffffffff) | (v >> (32 - c))

    def qr(x, a, b, c, d):
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 16)  # noqa: E702
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 12)  # noqa: E702
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 8)  # noqa: E702
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 7)  # noqa: E702
    x = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    x += [int.from_bytes(key[i:i + 4], "little") for i in range(0, 32, 4)]
    x += [int.from_bytes(nonce16[i:i + 4], "little") for i in range(0, 16, 4)]
    for _ in range(10):
        qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15)  # noqa: E702
        qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12); qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14)  # noqa: E702
    return b"".join(v.to_bytes(4, "little") for v in x[0:4] + x[12:16])


def open_keystore_secrets(items):
    """Each (path, name, kind, passphrase) of items opened; None where the passphrase (or the
    file) is wrong. One oracle process for all."""
    files = [json.load(open(p)) for p, _, _, _ in items]
    keys = argon2id_many([(pw, bytes.fromhex(j["kdf"]["salt"]), j["kdf"]["opslimit"],
                           j["kdf"]["memlimit"]) for (_, _, _, pw), j in zip(items, files)])
    out = []
    for (_, name, kind, _), j, key in zip(items, files, keys):
        nonce = bytes.fromhex(j["cipher"]["nonce"])
        sub = _hchacha20(key, nonce[:16])
        ad = ("LEBEN keystore secret v1|%s|%s" % (kind, name)).encode()
        try:
            out.append(ChaCha20Poly1305(sub).decrypt(bytes(4) + nonce[16:],
                                                     bytes.fromhex(j["cipher"]["ciphertext"]),
                                                     ad))
        except Exception:  # noqa: BLE001
            out.append(None)
    return out


def open_keystore_secret(path, name, kind, passphrase):
    return open_keystore_secrets([(path, name, kind, passphrase)])[0]
