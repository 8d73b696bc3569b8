// Cryptography of the page, all from libsodium (libsodium-wrappers-sumo, the same library the
// node uses in C): BLAKE2b-256 with domain separation, Ed25519, Argon2id, XChaCha20-Poly1305.
// libsodium (about 260 KB gzipped with its WebAssembly) is fetched the first time a page needs
// it, so the app's first load stays small.
import { concat } from './codec.js';

let sodium = null;

export async function ready() {
  if (!sodium) {
    const m = (await import('libsodium-wrappers-sumo')).default;
    await m.ready;
    sodium = m;
  }
  return sodium;
}

export function lib() {
  if (!sodium) throw new Error('crypto not ready (await ready() first)');
  return sodium;
}

const enc = new TextEncoder();

// H(domain ‖ NUL ‖ parts...) — the C lb_hash_domain; domain null: plain H(parts...).
export function hash(domain, ...parts) {
  const s = lib();
  const st = s.crypto_generichash_init(null, 32);
  if (domain !== null) s.crypto_generichash_update(st, concat(enc.encode(domain), Uint8Array.of(0)));
  for (const p of parts) s.crypto_generichash_update(st, p);
  return s.crypto_generichash_final(st, 32);
}

export function sign(msg, sk) { return lib().crypto_sign_detached(msg, sk); }

export function verify(sig, msg, pk) {
  try { return lib().crypto_sign_verify_detached(sig, msg, pk); } catch { return false; }
}
