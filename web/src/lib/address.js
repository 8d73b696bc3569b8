// Account addresses: first 20 bytes of H("LEBEN-addr-v1" ‖ public key), bech32m with hrp "lb"
// (docs/wire-format.md, "Addresses"); the C side is src/crypto/address.c.
import { hash } from './crypto.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32M = 0x2bc830a3;

function polymod(values) {
  const G = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const b = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((b >>> i) & 1) chk ^= G[i];
  }
  return chk >>> 0;
}

function hrpExpand(hrp) {
  const out = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data, from, to, pad) {
  let acc = 0, bits = 0;
  const out = [], maxv = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) { bits -= to; out.push((acc >> bits) & maxv); }
  }
  if (pad && bits) out.push((acc << (to - bits)) & maxv);
  else if (!pad && (bits >= from || ((acc << (to - bits)) & maxv))) return null;
  return out;
}

export function addressEncode(addr20) {
  const data = convertBits(addr20, 8, 5, true);
  const pm = polymod([...hrpExpand('lb'), ...data, 0, 0, 0, 0, 0, 0]) ^ BECH32M;
  let s = 'lb1';
  for (const d of data) s += CHARSET[d];
  for (let i = 0; i < 6; i++) s += CHARSET[(pm >>> (5 * (5 - i))) & 31];
  return s;
}

// The 20 address bytes of an lb1… text; throws with a reason a person can act on.
export function addressDecode(text) {
  const s = text.trim();
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Error('an address is all lower case (lb1…)');
  const t = s.toLowerCase();
  if (!t.startsWith('lb1') || t.length !== 41) throw new Error('an address starts with lb1 and has 41 characters');
  const vals = [];
  for (const c of t.slice(3)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) throw new Error(`'${c}' cannot appear in an address`);
    vals.push(v);
  }
  if (polymod([...hrpExpand('lb'), ...vals]) !== BECH32M)
    throw new Error('this address has a typo (its checksum does not match)');
  const bytes = convertBits(vals.slice(0, -6), 5, 8, false);
  if (!bytes || bytes.length !== 20) throw new Error('not an account address');
  return Uint8Array.from(bytes);
}

export function addressOfKey(pk) { return hash('LEBEN-addr-v1', pk).subarray(0, 20); }
