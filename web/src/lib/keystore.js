// The CLI's key files (src/crypto/keystore.c): the Ed25519 seed under XChaCha20-Poly1305 with a
// key from Argon2id(passphrase), the public key as associated data. Opened in the page only;
// neither the passphrase nor the key leaves it.
import { fromHex, equalBytes } from './codec.js';
import { lib } from './crypto.js';
import { addressEncode, addressOfKey } from './address.js';

// Parse a key file's text; throws a message naming what is wrong.
export function parseKeyFile(text) {
  let o;
  try { o = JSON.parse(text); } catch { throw new Error('this file is not a LEBEN key file (not JSON)'); }
  const k = o && o.kdf, c = o && o.cipher;
  if (!o || o.version !== 1 || !k || !c || typeof o.public_key !== 'string')
    throw new Error('this file is not a LEBEN key file (version 1 with kdf and cipher)');
  if (k.algorithm !== 'argon2id13' || c.algorithm !== 'xchacha20poly1305-ietf')
    throw new Error(`unsupported key file algorithms: ${k.algorithm}, ${c.algorithm}`);
  if (!Number.isInteger(k.opslimit) || !Number.isInteger(k.memlimit) || k.opslimit < 1 ||
      k.opslimit > 64 || k.memlimit < 8192 || k.memlimit > 1073741824)
    throw new Error('the key file asks for Argon2id limits this page refuses');
  const pk = fromHex(o.public_key);
  if (pk.length !== 32) throw new Error('the key file public key is not 32 bytes');
  return {
    name: typeof o.name === 'string' ? o.name : '', address: addressEncode(addressOfKey(pk)),
    publicKey: pk, opslimit: k.opslimit, memlimit: k.memlimit, salt: fromHex(k.salt),
    nonce: fromHex(c.nonce), ciphertext: fromHex(c.ciphertext),
  };
}

// Decrypt; returns {publicKey, secretKey (64 bytes), address, name}. Wrong passphrase: throws.
export function openKeyFile(kf, passphrase) {
  const s = lib();
  const key = s.crypto_pwhash(32, passphrase, kf.salt, kf.opslimit, kf.memlimit,
    s.crypto_pwhash_ALG_ARGON2ID13);
  let seed;
  try {
    seed = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, kf.ciphertext, kf.publicKey, kf.nonce, key);
  } catch {
    throw new Error('wrong passphrase (or the key file was altered)');
  } finally {
    s.memzero(key);
  }
  const kp = s.crypto_sign_seed_keypair(seed);
  s.memzero(seed);
  if (!equalBytes(kp.publicKey, kf.publicKey)) throw new Error('the key file does not hold the key it names');
  return { publicKey: kp.publicKey, secretKey: kp.privateKey, address: kf.address, name: kf.name };
}
