// Level-1 digital envelopes (include/leben/envelope.h, src/crypto/envelope.c), opened in the
// page: the content key is unwrapped from the recipient's slot with X25519 (the reader's
// Ed25519 key converted), then the libsodium secretstream records are pulled; the first one
// authenticates BLAKE2b-256 of the whole header. Same errors as the C side, in words.
import { lib } from './crypto.js';
import { concat, equalBytes } from './codec.js';

const MAGIC = [0x4c, 0x42, 0x45, 0x56]; // "LBEV"
const FIXED = 8 + 32, SLOT = 8 + 32 + 16, SS_HDR = 24, ABYTES = 17, CHUNK = 65536;
const enc = new TextEncoder();

// X25519 key pair of an Ed25519 identity (lb_envelope_keypair_from_ed25519_seed): sk64 is
// libsodium's 64-byte Ed25519 secret key (seed ‖ public key).
export function envelopeKeypair(sk64) {
  const s = lib();
  return { sk: s.crypto_sign_ed25519_sk_to_curve25519(sk64), pk: s.crypto_sign_ed25519_pk_to_curve25519(sk64.subarray(32)) };
}

export function envelopePublicKey(edPk) { return lib().crypto_sign_ed25519_pk_to_curve25519(edPk); }

function keyId(pk) { return lib().crypto_generichash(8, pk, enc.encode('LEBEN envelope key id')); }

function wrapKey(sk, theirPk, ephPk, rcptPk) {
  const s = lib();
  const shared = s.crypto_scalarmult(sk, theirPk);
  const st = s.crypto_generichash_init(shared, 32);
  s.crypto_generichash_update(st, enc.encode('LEBEN envelope v1 key wrap'));
  s.crypto_generichash_update(st, ephPk);
  s.crypto_generichash_update(st, rcptPk);
  s.memzero(shared);
  return s.crypto_generichash_final(st, 32);
}

export class EnvelopeError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}
const fail = (code, msg) => { throw new EnvelopeError(code, 'envelope: ' + msg); };

// Open env (Uint8Array) with the recipient's X25519 key pair {sk, pk}; returns the plaintext.
export function openEnvelope(env, { sk, pk }, maxOut = 1 << 24) {
  const s = lib();
  if (!equalBytes(s.crypto_scalarmult_base(sk), pk)) fail('EINVALID', 'the secret key does not match the public key');
  if (env.length >= 4 && MAGIC.some((m, i) => env[i] !== m)) fail('EMALFORMED', 'not a LEBEN envelope (bad magic)');
  if (env.length < FIXED) fail('ETRUNCATED', `truncated inside the header (${env.length} bytes)`);
  if (env[4] !== 1) fail('EUNSUPPORTED', `version ${env[4]} is not supported (only 1)`);
  if (env[5] !== 16) fail('EUNSUPPORTED', `record size 2^${env[5]} is not supported`);
  const n = env[6] << 8 | env[7];
  if (n === 0 || n > 1024) fail('EMALFORMED', `${n} recipients (need 1..1024)`);
  const eph = env.subarray(8, 40);
  const hlen = FIXED + n * SLOT + SS_HDR;
  const myId = keyId(pk);
  const kek = wrapKey(sk, eph, eph, pk);
  const ad = concat(eph, pk);
  const nonce = new Uint8Array(24);
  let key = null, matched = false, idAltered = false;
  for (let i = 0; i < n; i++) {
    const o = FIXED + i * SLOT;
    if (env.length < o + SLOT) fail('ETRUNCATED', `truncated in recipient slot ${i}`);
    const slot = env.subarray(o, o + SLOT);
    const mine = equalBytes(slot.subarray(0, 8), myId);
    if (mine) matched = true;
    if (key) continue;
    try {
      key = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, slot.subarray(8), ad, nonce, kek);
      if (!mine) idAltered = true;
    } catch { /* another recipient's slot */ }
  }
  s.memzero(kek);
  if (env.length < hlen) fail('ETRUNCATED', 'truncated before the payload');
  if (idAltered) fail('ETAMPERED', 'a recipient key id was altered');
  if (!key && !matched) fail('EWRONGKEY', `this key is not one of its ${n} recipient(s); open it with the key it was sealed to`);
  if (!key) fail('ETAMPERED', 'the recipient slot for this key was altered');
  const hh = s.crypto_generichash(32, env.subarray(0, hlen));
  let st;
  try { st = s.crypto_secretstream_xchacha20poly1305_init_pull(env.subarray(hlen - SS_HDR, hlen), key); } catch { fail('ETAMPERED', 'bad stream header'); } finally { s.memzero(key); }
  const out = [];
  let o = hlen, total = 0;
  for (let index = 0; ; index++) {
    if (env.length < o + 4) fail('ETRUNCATED', `truncated after record ${index} (the final record is missing)`);
    const clen = ((env[o] << 24) | (env[o + 1] << 16) | (env[o + 2] << 8) | env[o + 3]) >>> 0;
    o += 4;
    if (clen < ABYTES || clen > CHUNK + ABYTES) fail('ETAMPERED', `record ${index} has a corrupt length (${clen})`);
    if (env.length < o + clen) fail('ETRUNCATED', `truncated inside record ${index}`);
    let r = false;
    try { r = s.crypto_secretstream_xchacha20poly1305_pull(st, env.subarray(o, o + clen), index === 0 ? hh : null); } catch { r = false; }
    if (!r) fail('ETAMPERED', `record ${index} failed authentication (altered or reordered)`);
    o += clen;
    total += r.message.length;
    if (total > maxOut) fail('ETOOBIG', `the plaintext is larger than ${maxOut} bytes`);
    out.push(r.message);
    if (r.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL) break;
    if (r.tag !== 0) fail('ETAMPERED', `record ${index} has an unexpected tag`);
  }
  if (o !== env.length) fail('ETAMPERED', 'data was appended after the end');
  return concat(...out);
}

// Whether the envelope has a slot filed under this X25519 public key (key ids are public):
// lets a page say "not a reader" before logging a view it could not open.
export function envelopeNamesKey(env, pk) {
  if (env.length < FIXED || MAGIC.some((m, i) => env[i] !== m)) return false;
  const n = env[6] << 8 | env[7], id = keyId(pk);
  for (let i = 0; i < n && FIXED + (i + 1) * SLOT <= env.length; i++)
    if (equalBytes(env.subarray(FIXED + i * SLOT, FIXED + i * SLOT + 8), id)) return true;
  return false;
}
