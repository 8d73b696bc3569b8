// Inclusion proofs checked in the page (docs/wire-format.md, "Inclusion proofs" and "Merkle
// tree"; the C check is lb_proof_verify in src/ledger/block.c): every header's signature, the
// Merkle path from the tx id to the block's tx root, prev_hash links and the anchor.
import { Reader, equalBytes, toHex } from './codec.js';
import { hash, verify } from './crypto.js';
import { CHAINS } from './tx.js';

export function decodeHeader(raw) {
  const r = new Reader(raw, 'block header');
  const h = { version: r.u8('version') };
  if (h.version !== 1) r.fail('version', 'unknown');
  h.chain = r.u8('chain');
  h.height = r.uvar('height');
  h.time = r.uvar('time');
  h.prevHash = r.fixed('prev_hash', 32);
  h.txRoot = r.fixed('tx_root', 32);
  h.appHash = r.fixed('app_hash', 32);
  h.anchors = [0, 1].map(() => ({ height: r.uvar('anchor height'), hash: r.fixed('anchor hash', 32) }));
  h.txCount = r.uvar('tx_count', 65536);
  h.validity = r.bytes('validity', 8192);
  h.proposer = r.fixed('proposer', 32);
  const unsignedLen = r.o;
  h.signature = r.fixed('signature', 64);
  r.end();
  h.hash = hash('LEBEN-block-v1', raw.subarray(0, unsignedLen));
  h.unsigned = h.proposer.every((b) => !b) && h.signature.every((b) => !b);
  h.sigOk = h.unsigned || verify(h.signature, h.hash, h.proposer);
  return h;
}

// Anchor slot of chain `other` in a header of chain `own` (the two others, in id order).
function anchorIndex(own, other) {
  if (own === other) return -1;
  return [0, 1, 2].filter((c) => c !== own).indexOf(other);
}

export function merklePathIsValid(id, idx, n, path, root) {
  if (idx >= n) return false;
  let fn = idx, sn = n - 1;
  let r = hash(null, Uint8Array.of(0), id);
  for (const p of path) {
    if (sn === 0) return false;
    if ((fn & 1) || fn === sn) {
      r = hash(null, Uint8Array.of(1), p, r);
      if (!(fn & 1)) while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = hash(null, Uint8Array.of(1), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && equalBytes(r, root);
}

// Check a proof; returns {ok, steps: [{what, ok}], chain, height, index, txId, anchor}.
export function verifyProof(bytes, wantTxId) {
  const steps = [];
  const step = (what, ok) => { steps.push({ what, ok }); return ok; };
  const out = { ok: false, steps };
  try {
    const r = new Reader(bytes, 'proof');
    if (r.u8('version') !== 1) r.fail('version', 'unknown');
    const h = decodeHeader(r.bytes('header', 16384));
    const idx = r.uvar('index', 65535);
    const id = r.fixed('tx_id', 32);
    const plen = r.uvar('path length', 64);
    const path = [];
    for (let i = 0; i < plen; i++) path.push(r.fixed('path', 32));
    Object.assign(out, { chain: CHAINS[h.chain], height: h.height, index: idx, txId: toHex(id), blockHash: toHex(h.hash) });
    let ok = step(`${CHAINS[h.chain]} block ${h.height} is signed by its proposer`, h.sigOk);
    if (wantTxId) ok = step('the proof is about this tx', toHex(id) === wantTxId) && ok;
    ok = step(`Merkle path from the tx (index ${idx} of ${h.txCount}) to the block's tx root`,
      merklePathIsValid(id, idx, h.txCount, path, h.txRoot)) && ok;
    const links = r.uvar('links', 0xffffffff);
    if (links > 0) {
      let tip = h.hash, height = h.height;
      for (let i = 0; i + 1 < links; i++) {
        const l = decodeHeader(r.bytes('link', 16384));
        ok = step(`${CHAINS[l.chain]} block ${l.height} follows block ${height} and is signed`,
          l.sigOk && l.chain === h.chain && l.height === height + 1 && equalBytes(l.prevHash, tip)) && ok;
        tip = l.hash; height = l.height;
      }
      const a = decodeHeader(r.bytes('anchor', 16384));
      const ai = anchorIndex(a.chain, h.chain);
      ok = step(`${CHAINS[a.chain]} block ${a.height} anchors ${CHAINS[h.chain]} block ${height}`,
        a.sigOk && ai >= 0 && a.anchors[ai].height === height && equalBytes(a.anchors[ai].hash, tip)) && ok;
      out.anchor = { chain: CHAINS[a.chain], height: a.height, blockHash: toHex(a.hash) };
    }
    r.end();
    out.ok = ok;
  } catch (e) {
    step(e.message, false);
  }
  return out;
}
