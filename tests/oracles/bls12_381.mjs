// Oracle for the BLS12-381 differential test: @noble/curves (pure JavaScript, RFC 9380
// hash-to-curve), independent of LEBEN's C code. Prints random cases with noble's answers, one
// per line; tests/oracles/bls12_381_diff.c recomputes each in C and compares.
//   node bls12_381.mjs cases SCALE   -> lines (hex everywhere; scalars 32 bytes big-endian):
//     g1mul k P | g2mul k Q               P = k * G (compressed)
//     g1add A B S | g2add A B S           S = A + B (A, B compressed, any relation)
//     g1smul A k P | g2smul A k P         P = k * A for a random point A
//     pair A B F                          F = Fp12.toBytes(e(A, B)) (1 when A or B is the identity)
//     h2g1 msg dst P | h2g2 msg dst P     RFC 9380 hash_to_curve, the _RO_ suites
//     dec1 enc noble strict canon | dec2 …  decoding of valid and invalid encodings: noble's
//       verdict (ok/bad), the zkcrypto-format verdict (noble plus canonical x < p and no sort
//       bit on the identity), and noble's re-encoding when it accepts ("-" otherwise)
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { randomBytes } from 'crypto';

const G1 = bls.G1.ProjectivePoint ?? bls.G1.Point, G2 = bls.G2.ProjectivePoint ?? bls.G2.Point;
const Fp12 = bls.fields.Fp12;
const P = bls.fields.Fp.ORDER;
const R = bls.fields.Fr.ORDER;
const hex = (u) => Buffer.from(u).toString('hex');
const be2n = (u) => BigInt('0x' + (hex(u) || '0'));
const n2be = (n, len) => Buffer.from(n.toString(16).padStart(len * 2, '0'), 'hex');
const rnd = () => { let x; do { x = be2n(randomBytes(64)) % R; } while (x === 0n); return x; };
const ri = (n) => Math.floor(Math.random() * n);
const comp = (p) => p.toHex(true);
const out = [];
const emit = (...a) => out.push(a.join(' '));

function randPoint(G, kind) {
  switch (ri(8)) {
    case 0: return G.ZERO;
    case 1: return G.BASE;
    default: return G.BASE.multiply(rnd());
  }
}

function mutate(enc, len) {
  const b = Buffer.from(enc, 'hex');
  switch (ri(9)) {
    case 0: b[ri(len)] ^= 1 << ri(8); break;                       // a flipped bit anywhere
    case 1: b[len - 1] ^= 1; break;                                  // low bit of x
    case 2: b[0] ^= 0x20; break;                                     // the sort bit (still valid)
    case 3: b[0] &= 0x7f; break;                                     // no compression flag
    case 4: b[0] |= 0x40; break;                                     // infinity flag on a point
    case 5: { const r = randomBytes(len); r[0] = (r[0] & 0x1f) | 0x80 | (ri(2) << 5); return r; }  // random x
    case 6: { const z = Buffer.alloc(len); z[0] = [0xc0, 0xe0, 0x40, 0x80, 0xa0][ri(5)]; if (ri(2)) z[len - 1] = 1; return z; }
    case 7: { // x + p (non-canonical) in the first field element
      const x = be2n(b.subarray(0, 48)) & ((1n << 381n) - 1n);
      const y = x + P;
      if (y < (1n << 381n)) { const f = b[0] & 0xe0; n2be(y, 48).copy(b, 0); b[0] |= f; }
      break;
    }
    default: break;                                                  // unchanged (valid)
  }
  return b;
}

function verdict(G, b, len) {
  try {
    const p = G.fromHex(hex(b));
    p.assertValidity();
    return ['ok', comp(p)];
  } catch (e) { return ['bad', '-']; }
}

function strict(b, len, nob) {
  if (nob === 'bad') return 'bad';
  if (!(b[0] & 0x80)) return 'bad';
  if (b[0] & 0x40) {
    if (b[0] & 0x3f) return 'bad';
    for (let i = 1; i < len; i++) if (b[i]) return 'bad';
    return 'ok';
  }
  const c = Buffer.from(b); c[0] &= 0x1f;
  if (be2n(c.subarray(0, 48)) >= P) return 'bad';
  if (len === 96 && be2n(c.subarray(48, 96)) >= P) return 'bad';
  return 'ok';
}

const [cmd, scaleArg] = process.argv.slice(2);
if (cmd !== 'cases') { console.error('usage: node bls12_381.mjs cases SCALE'); process.exit(2); }
const S = Number(scaleArg || 1);
for (let i = 0; i < 300 * S; i++) { const k = rnd(); emit('g1mul', hex(n2be(k, 32)), comp(G1.BASE.multiply(k))); }
for (let i = 0; i < 100 * S; i++) { const k = rnd(); emit('g2mul', hex(n2be(k, 32)), comp(G2.BASE.multiply(k))); }
for (const [G, name, n] of [[G1, 'g1', 300], [G2, 'g2', 100]]) {
  for (let i = 0; i < n * S; i++) {
    const a = randPoint(G);
    let b;
    switch (ri(4)) { case 0: b = a; break; case 1: b = a.negate(); break; default: b = randPoint(G); }
    emit(name + 'add', comp(a), comp(b), comp(a.add(b)));
  }
  for (let i = 0; i < (n / 3) * S; i++) {
    const a = randPoint(G), k = rnd();
    emit(name + 'smul', comp(a), hex(n2be(k, 32)), comp(a.multiply(k)));
  }
}
for (let i = 0; i < 40 * S; i++) {
  const a = ri(10) === 0 ? G1.ZERO : G1.BASE.multiply(rnd());
  const b = ri(10) === 0 ? G2.ZERO : G2.BASE.multiply(rnd());
  // noble refuses a pairing with the identity; its value is 1 by bilinearity
  const f = a.equals(G1.ZERO) || b.equals(G2.ZERO) ? Fp12.ONE : bls.pairing(a, b);
  emit('pair', comp(a), comp(b), hex(Fp12.toBytes(f)));
}
for (const [G, name, n] of [[bls.G1, 'h2g1', 150], [bls.G2, 'h2g2', 60]]) {
  for (let i = 0; i < n * S; i++) {
    const msg = randomBytes(ri(4) === 0 ? 0 : ri(300));
    const dst = randomBytes(1 + ri(ri(4) === 0 ? 255 : 64));
    emit(name, hex(msg) || '-', hex(dst), comp(G.hashToCurve(msg, { DST: dst })));
  }
}
for (const [G, name, len, n] of [[G1, 'dec1', 48, 400], [G2, 'dec2', 96, 120]]) {
  for (let i = 0; i < n * S; i++) {
    const b = mutate(comp(randPoint(G)), len);
    const [v, c] = verdict(G, b, len);
    emit(name, hex(b), v, strict(b, len, v), c);
  }
}
process.stdout.write(out.join('\n') + '\n');
