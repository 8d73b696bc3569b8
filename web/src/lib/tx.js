// Transactions in the node's wire encoding (docs/wire-format.md, "Transaction"; the C encoder
// is lb_tx_build in src/ledger/tx.c): built, signed and decoded in the page.
import { Writer, Reader, concat, toHex } from './codec.js';
import { hash, sign, lib } from './crypto.js';
import { addressEncode } from './address.js';

export const CHAINS = ['settlement', 'directory', 'business'];
export const ASSETS = { 1: 'ASC', 2: 'CSC' };

const addr = (r, f) => addressEncode(r.fixed(f, 20));
const hex = (r, f, n) => toHex(r.fixed(f, n));
const utf8 = (b) => { try { return new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { return null; } };
export const SCENARIOS = ['auto', 'local', 'off-site', 'integrated'];
const ROLES = ['', 'patient', 'provider', 'knowledge sharer', 'data contributor', 'technology provider',
  'industry institution', 'credit partner', 'auditor'];

// Payload decoders of the types the page reads field by field; the others show their bytes.
const PAYLOADS = {
  0x0101: ['issue', (r) => ({ to: addr(r, 'to'), amount: r.uvarBig('amount') })],
  0x0102: ['transfer', (r) => ({
    to: addr(r, 'to'), asset: ASSETS[r.u8('asset')] ?? 'unknown', amount: r.uvarBig('amount'),
    memo: r.text('memo', 256) })],
  0x0103: ['burn', (r) => ({ amount: r.uvarBig('amount') })],
  0x0104: ['convert', (r) => ({ amount: r.uvarBig('amount') })],
  0x0201: ['asset.register', (r) => ({ content_hash: hex(r, 'content hash', 32), metadata: shown(r.bytes('metadata', 32768)) })],
  0x0202: ['asset.update', (r) => ({ asset: hex(r, 'asset id', 32), content_hash: hex(r, 'content hash', 32), metadata: shown(r.bytes('metadata', 32768)) })],
  0x0203: ['asset.retire', (r) => ({ asset: hex(r, 'asset id', 32), reason: r.text('reason', 256) })],
  0x0301: ['identity.register', (r) => {
    const role = r.u8('role');
    return { role: ROLES[role] || `role ${role}`, name: r.text('name', 128), metadata: shown(r.bytes('metadata', 32768)) };
  }],
  0x0302: ['record', (r) => ({ kind: r.text('kind', 64), subject: hex(r, 'subject', 32), data: shown(r.bytes('data', 32768)) })],
  0x0310: ['contract.publish', (r) => {
    if (r.u8('version') !== 1) r.fail('version', 'unknown');
    return { source_hash: hex(r, 'source hash', 32), report_hash: hex(r, 'report hash', 32), source_bytes: r.bytes('source').length };
  }],
  0x0330: ['governance.propose', (r) => ({ action: ['', 'admit', 'remove'][r.u8('action')] || 'unknown', member: addr(r, 'member'),
    name: r.text('name', 64), kinds: r.u8('kinds'), expires_height: r.uvar('expires_height') })],
  0x0344: ['xchg.approve', (r) => ({ request: hex(r, 'request', 32), decision: ['', 'approve', 'reject'][r.u8('decision')] || 'unknown',
    reason: r.text('reason', 256) })],
  0x0345: ['xchg.consent', (r) => {
    const asset = hex(r, 'asset', 32), patient = hex(r, 'patient', 32);
    const action = r.u8('action');
    const f = { asset, patient, action: ['', 'give', 'revoke', 'rebind'][action] || r.fail('action', `${action} unknown`) };
    if (action === 3) f.new_key = addr(r, 'new key');
    return f;
  }],
  0x034a: ['xchg.view', (r) => {
    const asset = hex(r, 'asset', 32);
    const part = r.u8('part');
    if (part !== 1 && part !== 2) r.fail('part', `${part} is neither 1 (private part) nor 2 (raw data)`);
    const version = r.uvar('version');
    const n = r.uvar('patients', 64);
    const patients = [];
    for (let i = 0; i < n; i++) patients.push(hex(r, 'patient', 32));
    return { asset, part: part === 1 ? 'private part' : 'raw data', version, patients };
  }],
  0x0343: ['xchg.request', (r) => {
    const f = { asset: hex(r, 'asset', 32), algorithm: hex(r, 'algorithm', 32) };
    const sc = r.u8('scenario');
    f.scenario = SCENARIOS[sc] ?? r.fail('scenario', `${sc} is not 0-3`);
    return { ...f, purpose: r.text('purpose', 256), params: r.text('params', 4096) };
  }],
  0x0110: ['escrow.open', (r) => ({ user: addr(r, 'user'), request: hex(r, 'request', 32), owner: addr(r, 'owner'),
    data_fee: r.uvarBig('data fee'), author: addr(r, 'author'), algo_fee: r.uvarBig('algorithm fee'),
    executor: addr(r, 'executor'), compute_fee: r.uvarBig('compute fee'), timeout_height: r.uvarBig('timeout') })],
  0x0113: ['escrow.claim', (r) => ({ escrow: hex(r, 'escrow', 32), result_hash: hex(r, 'result hash', 32) })],
  0x0372: ['store.buy', (r) => storeFields(r, false)],
  0x0373: ['store.call', (r) => storeFields(r, true)],
  0x0370: ['store.list', (r) => {
    if (r.u8('version') !== 1) r.fail('version', 'not 1');
    const f = { listing: hex(r, 'item', 32) };
    const k = r.u8('kind');
    f.kind = ['', 'contract', 'algorithm'][k] || r.fail('kind', `${k} unknown`);
    Object.assign(f, { price_call: r.uvarBig('price per call'), price_licence: r.uvarBig('licence price'), title: r.text('title', 256),
      specialty: r.text('specialty', 256), description: r.text('description', 4096) });
    const n = r.uvar('codes', 16);
    f.codes = [];
    for (let i = 0; i < n; i++) f.codes.push(r.text('code', 256));
    const parent = hex(r, 'parent', 32), rel = r.u8('relation');
    if (rel) { f.parent = parent; f.relation = RELATIONS[rel - 1] ?? r.fail('relation', `${rel} unknown`); }
    const tmpl = hex(r, 'template', 32), params = r.text('params', 4096);
    if (!/^0+$/.test(tmpl)) { f.template = tmpl; f.params = params; }
    return f;
  }],
  0x0375: ['store.outcome', (r) => {
    if (r.u8('version') !== 1) r.fail('version', 'not 1');
    const f = { listing: hex(r, 'listing', 32), call: hex(r, 'call', 32) };
    const o = r.u8('outcome');
    return { ...f, outcome: OUTCOMES[o - 1] ?? r.fail('outcome', `${o} unknown`), session: hex(r, 'session', 32) };
  }],
  0x0125: ['market.pay', (r) => {
    const use = r.u8('use');
    const f = { use: ['', 'contract call', 'algorithm call', 'data use'][use] || `use ${use}`, amount: r.uvarBig('amount') };
    const flags = r.u8('flags');
    if (flags & 1) f.owner = addr(r, 'owner');
    if (flags & 2) f.algorithm_author = addr(r, 'algorithm author');
    if (flags & 4) f.executor = addr(r, 'executor');
    for (const k of ['patients', 'authors', 'ancestors', 'audit']) {
      const n = r.uvar(k, 4096);
      const l = [];
      for (let i = 0; i < n; i++) l.push(addr(r, k));
      if (n) f[k] = l;
    }
    return f;
  }],
  0x0374: ['store.rate', (r) => {
    if (r.u8('version') !== 1) r.fail('version', 'not 1');
    return { listing: hex(r, 'listing', 32), stars: r.u8('stars'), text: r.text('text', 4096) };
  }],
  0x0390: ['data.purge.ask', (r) => ({ asset: hex(r, 'asset', 32), patient: hex(r, 'patient', 32), reason: r.text('reason', 256) })],
  0x0331: ['governance.vote', (r) => ({ proposal: hex(r, 'proposal', 32), vote: r.u8('vote') ? 'yes' : 'no' })],
  0x0332: ['checkpoint', (r) => ({ chain: CHAINS[r.u8('chain')], height: r.uvar('height'),
    block_hash: hex(r, 'block hash', 32), app_hash: hex(r, 'app hash', 32) })],
};

// store.buy / store.call (lb_store_tx_encode): version 1, listing, max price (micro-ASC), for a
// call the anchored session (zeros: none), then a cited market.pay tx and its proof (empty: the
// buyer's store wallet pays).
function storeFields(r, call) {
  if (r.u8('version') !== 1) r.fail('version', 'not 1');
  const f = { listing: hex(r, 'listing', 32), max_price: r.uvarBig('max price') };
  if (call) f.session = hex(r, 'session', 32);
  const payTx = r.bytes('pay tx', 60000), proof = r.bytes('pay proof', 60000);
  f.paid_from = payTx.length ? `a cited payment (${payTx.length} bytes, proof ${proof.length} bytes)` : 'store wallet';
  return f;
}

// Text when the bytes are UTF-8 (JSON metadata, notes), else their length.
function shown(b) {
  const t = b.length ? utf8(b) : '';
  return t !== null && !/[\u0000-\u0008\u000e-\u001f]/.test(t) ? t : `${b.length} bytes`;
}

export const TX_TYPES = {
  transfer: 0x0102, issue: 0x0101, burn: 0x0103, convert: 0x0104, xchgView: 0x034a, xchgConsent: 0x0345, xchgApprove: 0x0344, contractPublish: 0x0310,
  xchgRequest: 0x0343, escrowOpen: 0x0110, purgeAsk: 0x0390, storeBuy: 0x0372, storeCall: 0x0373, storeList: 0x0370, storeRate: 0x0374, storeOutcome: 0x0375, marketPay: 0x0125,
};

// xchg.consent (lb_xchg_consent_encode): action 1 give, 2 revoke, 3 rebind (the patient's
// consent moves to the key newKey20, an address's 20 bytes).
export function consentPayload(asset32, patient32, action, newKey20 = null) {
  if (action !== 1 && action !== 2 && action !== 3) throw new Error('a consent is given (1), revoked (2) or rebound (3)');
  const w = new Writer().fixed(asset32, 32).fixed(patient32, 32).u8(action);
  if (action === 3) w.fixed(newKey20, 20);
  return w.done();
}

// contract.publish (lb_kn_publish_payload_encode): version 1, source hash, report hash, source.
export function publishPayload(sourceHash32, reportHash32, canonical) {
  return new Writer().u8(1).fixed(sourceHash32, 32).fixed(reportHash32, 32).text(canonical).done();
}

// xchg.approve (lb_xchg_approve_encode): decision 1 approve, 2 reject, with a reason.
export function approvePayload(request32, decision, reason) {
  return new Writer().fixed(request32, 32).u8(decision).text(reason || '').done();
}

// xchg.request (lb_xchg_request_encode): asset, algorithm hash, scenario (0 auto, 1 local,
// 2 off-site, 3 integrated), purpose (1-256 bytes), parameters (JSON text, up to 4096 bytes).
export function requestPayload(asset32, algo32, scenario, purpose, params) {
  if (!purpose) throw new Error('purpose: say what the result is for');
  if (params) JSON.parse(params); // the node refuses parameters that are not JSON
  return new Writer().fixed(asset32, 32).fixed(algo32, 32).u8(scenario).text(purpose).text(params || '').done();
}

// The hash a built-in algorithm is requested by (lb_xchg_builtin_hash).
export const builtinAlgorithmHash = (name) => hash('LEBEN-algo-builtin-v1', new TextEncoder().encode(name));

// escrow.open (lb_escrow_open_encode): the terms (user, request, owner, data fee, author,
// algorithm fee, executor, computing fee) and the settlement height after which it refunds.
export function escrowOpenPayload(t, timeout) {
  return new Writer().fixed(t.user, 20).fixed(t.request, 32).fixed(t.owner, 20).uvar(t.data_fee)
    .fixed(t.author, 20).uvar(t.algo_fee).fixed(t.executor, 20).uvar(t.compute_fee).uvar(timeout).done();
}

// xchg.view (src/exchange/xchg_wire.c, lb_xchg_view_encode): a reader logs a view of an
// asset's private part (part 1) or raw data (part 2) before opening it.
export function viewPayload(asset32, part, version, patients = []) {
  const w = new Writer().fixed(asset32, 32).u8(part).uvar(version).uvar(patients.length);
  for (const p of patients) w.fixed(p, 32);
  return w.done();
}

// store.buy (0x0372) and store.call (0x0373): paid from the store wallet, or with a cited
// payment (payTx: a committed market.pay's signed bytes, payProof: its proof anchored in the
// business chain; both empty for the wallet); session32 (calls only) names the anchored session
// the call ran, zeros for none.
export function storeBuyPayload(listing32, maxPrice, payTx = [], payProof = []) {
  return new Writer().u8(1).fixed(listing32, 32).uvar(maxPrice).bytes(payTx).bytes(payProof).done();
}
export function storeCallPayload(listing32, maxPrice, session32 = new Uint8Array(32), payTx = [], payProof = []) {
  return new Writer().u8(1).fixed(listing32, 32).uvar(maxPrice).fixed(session32, 32).bytes(payTx).bytes(payProof).done();
}
// store.outcome (0x0375): the caller records what came of a call (the store.call tx id).
export const OUTCOMES = ['referral-confirmed', 'referral-declined', 'adverse-event', 'resolved', 'readmitted', 'other'];
export function storeOutcomePayload(listing32, call32, outcome, session32 = new Uint8Array(32)) {
  const o = OUTCOMES.indexOf(outcome) + 1;
  if (!o) throw new Error(`outcome: use ${OUTCOMES.join(', ')}`);
  return new Writer().u8(1).fixed(listing32, 32).fixed(call32, 32).u8(o).fixed(session32, 32).done();
}
// market.pay (lb_mkt_pay_encode) for a store listing, as `leben store call --settle` pays it:
// use 1 (contract: its author and its ancestors' authors) or 2 (algorithm: its author), the
// amount in micro-ASC, then the party lists (patients, authors, ancestors, audit).
export function marketPayPayload(kind, amount, author20, ancestors20 = []) {
  const algo = kind === 'algorithm';
  const w = new Writer().u8(algo ? 2 : 1).uvar(amount).u8(algo ? 2 : 0);
  if (algo) w.fixed(author20, 20);
  const list = (l) => { w.uvar(l.length); for (const a of l) w.fixed(a, 20); };
  list([]);
  list(algo ? [] : [author20]);
  list(algo ? [] : ancestors20);
  list([]);
  return w.done();
}
// store.list (0x0370, lb_store_tx_encode): the author lists a contract (kind 1) or algorithm
// (2) with prices (micro-ASC), title, specialty, description, codes ("icd10|I10", at most 16),
// optionally the listing it derives from (relation 1 fork, 2 extend, 3 specialise); no template.
export const RELATIONS = ['fork', 'extend', 'specialise'];
export function storeListPayload(item32, l) {
  const codes = l.codes || [];
  if (codes.length > 16) throw new Error('codes: at most 16');
  if (!l.title) throw new Error('title: give the listing a title');
  const rel = l.parent ? RELATIONS.indexOf(l.relation) + 1 : 0;
  if (l.parent && !rel) throw new Error(`relation: a listing derived from another is a ${RELATIONS.join(', ')}`);
  const w = new Writer().u8(1).fixed(item32, 32).u8(l.kind === 'algorithm' ? 2 : 1).uvar(l.price_call).uvar(l.price_licence)
    .text(l.title).text(l.specialty || '').text(l.description || '').uvar(codes.length);
  for (const c of codes) w.text(c);
  return w.fixed(l.parent || new Uint8Array(32), 32).u8(rel).fixed(new Uint8Array(32), 32).text('').done();
}

// store.rate (0x0374): 1-5 stars and a text.
export function storeRatePayload(listing32, stars, text) {
  if (!(stars >= 1 && stars <= 5)) throw new Error('stars: give 1 to 5');
  return new Writer().u8(1).fixed(listing32, 32).u8(stars).text(text || '').done();
}

// data.purge.ask (lb_purge_ask_encode): asset, patient commitment, reason (0-256 bytes).
export function purgeAskPayload(asset32, patient32, reason) {
  return new Writer().fixed(asset32, 32).fixed(patient32, 32).text(reason || '').done();
}

// Unsigned bytes: version, chain, type, sender, nonce, fee, expires, payload.
export function encodeUnsigned(t) {
  return new Writer().u8(1).u8(t.chain).uvar(t.type).fixed(t.sender, 32).uvar(t.nonce)
    .uvar(t.fee).uvar(t.expires ?? 0).bytes(t.payload).done();
}

export function sighash(network, unsignedBytes) { return hash('LEBEN-tx-v1', network, unsignedBytes); }

// Signed tx bytes and id; sk is the 64-byte libsodium secret key.
export function signTx(t, network, sk) {
  const u = encodeUnsigned(t);
  const sig = sign(sighash(network, u), sk);
  const raw = concat(u, sig);
  return { raw, id: txId(raw) };
}

export function txId(raw) { return hash(null, raw); }

export function transferPayload(to20, asset, amount, memo) {
  return new Writer().fixed(to20, 20).u8(asset).uvar(amount).text(memo || '').done();
}

export function convertPayload(amount) { return new Writer().uvar(amount).done(); }

// Decode signed tx bytes into what a person checks before signing or when exploring.
export function decodeTx(raw) {
  const r = new Reader(raw, 'tx');
  const version = r.u8('version');
  if (version !== 1) r.fail('version', `version ${version} unknown`);
  const chainId = r.u8('chain');
  if (chainId > 2) r.fail('chain', `chain ${chainId} unknown`);
  const type = r.uvar('type', 0xffffffff);
  const sender = r.fixed('sender', 32);
  const nonce = r.uvarBig('nonce');
  const fee = r.uvarBig('fee');
  const expires = r.uvarBig('expires');
  const payload = r.bytes('payload', 60000);
  const unsignedLen = r.o;
  const sig = r.fixed('signature', 64);
  r.end();
  const known = PAYLOADS[type];
  let fields = null, error = null;
  if (known) {
    try {
      const pr = new Reader(payload, 'payload');
      fields = known[1](pr);
      pr.end();
    } catch (e) { error = e.message; }
  }
  return {
    chain: CHAINS[chainId], chainId, type, typeName: known ? known[0] : `0x${type.toString(16).padStart(4, '0')}`,
    sender, senderAddress: addressEncode(hash('LEBEN-addr-v1', sender).subarray(0, 20)),
    nonce, fee, expires, payload, fields, payloadError: error, signature: sig,
    unsignedBytes: raw.subarray(0, unsignedLen),
  };
}

// The signature of a decoded tx is the sender's over this network.
export function txSignatureIsValid(dec, network) {
  try {
    return lib().crypto_sign_verify_detached(dec.signature, sighash(network, dec.unsignedBytes), dec.sender);
  } catch { return false; }
}
