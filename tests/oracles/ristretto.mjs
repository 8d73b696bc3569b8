// Oracle for ristretto255 / Schnorr differential tests: @noble/curves RistrettoPoint and
// @noble/hashes BLAKE2b, independent of libsodium.
//   node ristretto.mjs vectors N            -> N lines: a b aB bB aB+bB a(bB)   (hex, scalars LE)
//   node ristretto.mjs verify X R S CTX     -> "valid" or "invalid" (LEBEN zk schnorr v1)
//   node ristretto.mjs prove x CTX          -> X R S
//   node ristretto.mjs context ACCOUNTHEX CHAIN PURPOSE NONCE BOUNDHEX -> context digest hex
import { ristretto255 } from '@noble/curves/ed25519';
import { blake2b } from '@noble/hashes/blake2b';
import { randomBytes } from 'crypto';

const P = ristretto255.RistrettoPoint ?? ristretto255.Point;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const hex = (u) => Buffer.from(u).toString('hex');
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const le2n = (u) => { let n = 0n; for (let i = u.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(u[i]); return n; };
const n2le = (n) => { const u = new Uint8Array(32); for (let i = 0; i < 32; i++) { u[i] = Number(n & 255n); n >>= 8n; } return u; };
const u64be = (v) => { const u = new Uint8Array(8); let n = BigInt(v); for (let i = 7; i >= 0; i--) { u[i] = Number(n & 255n); n >>= 8n; } return u; };
const cat = (...a) => { const out = new Uint8Array(a.reduce((s, x) => s + x.length, 0)); let o = 0; for (const x of a) { out.set(x, o); o += x.length; } return out; };
const enc = (s) => new TextEncoder().encode(s);
const field = (u) => cat(u64be(u.length), u);
const pt = (h) => P.fromHex(h);
const tob = (p) => (p.toRawBytes ? p.toRawBytes() : p.toBytes());
const rnd = () => { let x; do { x = le2n(randomBytes(64)) % L; } while (x === 0n); return x; };
const challenge = (ctx, X, R) => le2n(blake2b(cat(enc('LEBEN zk schnorr v1'), ctx, X, R), { dkLen: 64 })) % L;

const [cmd, ...a] = process.argv.slice(2);
if (cmd === 'vectors') {
  for (let i = 0; i < Number(a[0]); i++) {
    const x = rnd(), y = rnd();
    const X = P.BASE.multiply(x), Y = P.BASE.multiply(y);
    console.log([hex(n2le(x)), hex(n2le(y)), hex(tob(X)), hex(tob(Y)), hex(tob(X.add(Y))), hex(tob(Y.multiply(x)))].join(' '));
  }
} else if (cmd === 'context') {
  const [acc, chain, purpose, nonce, bound] = a;
  console.log(hex(blake2b(cat(enc('LEBEN zk context v1'), field(unhex(acc)), field(enc(chain)), field(enc(purpose)), u64be(nonce), field(unhex(bound || ''))), { dkLen: 32 })));
} else if (cmd === 'verify') {
  const [Xh, Rh, Sh, ctx] = a;
  let ok = false;
  try {
    const s = le2n(unhex(Sh));
    if (s > 0n && s < L) {
      const c = challenge(unhex(ctx), unhex(Xh), unhex(Rh));
      ok = P.BASE.multiply(s).equals(pt(Rh).add(pt(Xh).multiply(c)));
    }
  } catch (e) { ok = false; }
  console.log(ok ? 'valid' : 'invalid');
} else if (cmd === 'prove') {
  const x = le2n(unhex(a[0])) % L, ctx = unhex(a[1]);
  const X = tob(P.BASE.multiply(x)), k = rnd(), R = tob(P.BASE.multiply(k));
  const s = (k + challenge(ctx, X, R) * x) % L;
  console.log([hex(X), hex(R), hex(n2le(s))].join(' '));
} else {
  console.error('usage: see the header of ristretto.mjs'); process.exit(2);
}
