// Keys and signing for every page: a key file opened in the page (never sent), the decoded
// tx shown before it is signed, and the signed tx followed into its block. The wallet, the
// directory, the patient portal and the exchange all sign through here.
import { Fragment, useState } from 'react';
import { api, waitTx } from './api.js';
import { ready, lib, sign } from './crypto.js';
import { fromHex, toHex, concat } from './codec.js';
import { parseKeyFile, openKeyFile } from './keystore.js';
import { encodeUnsigned, decodeTx, sighash, txId, CHAINS } from './tx.js';
import { Amount, ErrorLine, Hash, TxLink, BlockLink, ProofPanel, Time } from './ui.jsx';

// The open key lives only in this module's memory; close() wipes it.
let session = null;
export const currentKey = () => session;
export function publicView(k) { return k && { address: k.address, name: k.name, publicKey: k.publicKey }; }
export function closeKey() {
  if (session) { lib().memzero(session.secretKey); session = null; }
}

// Open a key file; onOpen gets the public view ({address, name, publicKey}).
export function KeyFileForm({ onOpen, title = 'Open your wallet', button = 'Open wallet', children }) {
  const [file, setFile] = useState(null);
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);
  async function open(e) {
    e.preventDefault();
    setErr(null);
    setBusy(true);
    try {
      await ready();
      const kf = parseKeyFile(await file.text());
      await new Promise((r) => setTimeout(r, 20)); // let "Opening…" paint before Argon2id
      const k = openKeyFile(kf, pass);
      setPass('');
      closeKey();
      session = k;
      onOpen(publicView(k));
    } catch (ex) { setErr(ex); } finally { setBusy(false); }
  }
  return (
    <form className="card" onSubmit={open} aria-labelledby="signin-h">
      <h2 id="signin-h">{title}</h2>
      {children || <p className="muted">The key file is the one <code>leben keys new</code> wrote (for the demo node:
        <code> .leben-demo/keys/alice.key</code>, passphrase <code>demo</code>). It is decrypted in this
        browser; the passphrase and the private key are never sent anywhere.</p>}
      <label>Key file <input type="file" accept=".key,application/json" required
        onChange={(e) => setFile(e.target.files[0] || null)} /></label>
      <label>Passphrase <input type="password" autoComplete="current-password" value={pass}
        onChange={(e) => setPass(e.target.value)} required /></label>
      <button type="submit" disabled={!file || busy}>{busy ? 'Opening…' : button}</button>
      <ErrorLine error={err} />
    </form>
  );
}

// the unit of the amounts the review names (micro-units on the wire)
const UNITS = { data_fee: 'ASC', algo_fee: 'ASC', compute_fee: 'CSC', amount: 'ASC', max_price: 'ASC' };
const fieldText = (k, v) => (typeof v === 'bigint' ? String(v) : typeof v === 'object' && v ? JSON.stringify(v) : String(v));

// What is about to be signed, decoded from the bytes themselves (not from the form).
function Review({ draft, onSign, onCancel, busy, explain }) {
  const d = draft.decoded;
  const f = d.fields || {};
  const money = d.typeName === 'transfer' || d.typeName === 'convert';
  return (
    <section className="card review" aria-labelledby="rev-h">
      <h2 id="rev-h">Check what you sign</h2>
      <p className="muted">Decoded from the {draft.unsigned.length} bytes this page will sign{explain ? `: ${explain}` : ':'}</p>
      <dl className="fields" data-testid="review">
        <dt>Chain</dt><dd>{d.chain}</dd>
        <dt>Type</dt><dd data-testid="review-type">{d.typeName}</dd>
        <dt>From</dt><dd><code>{d.senderAddress}</code></dd>
        {f.to !== undefined && <><dt>To</dt><dd><code data-testid="review-to">{f.to}</code></dd></>}
        {money && <><dt>Amount</dt><dd data-testid="review-amount"><Amount micro={f.amount} unit={f.asset || (d.typeName === 'convert' ? 'CSC' : '')} />
          {d.typeName === 'convert' && <span className="muted"> in, ASC out at the network's conversion rate</span>}</dd></>}
        {f.memo !== undefined && <><dt>Memo</dt><dd>{f.memo || <span className="muted">none</span>}</dd></>}
        {!money && Object.entries(f).filter(([k]) => k !== 'to').map(([k, v]) => (
          <Fragment key={k}><dt>{k.replace(/_/g, ' ')}</dt><dd><code data-testid={`review-${k}`}>{fieldText(k, v)}</code>
            {typeof v === 'bigint' && /fee$|^amount$|price$/.test(k) && <span className="muted"> micro-units = <Amount micro={v} unit={UNITS[k] || ''} /></span>}</dd></Fragment>))}
        {d.payloadError && <><dt>Payload</dt><dd className="bad">{d.payloadError}</dd></>}
        <dt>Fee</dt><dd><Amount micro={d.fee} unit="CSC" /></dd>
        <dt>Nonce</dt><dd>{String(d.nonce)}</dd>
        <dt>Expires</dt><dd>{d.expires ? <Time ms={Number(d.expires)} /> : 'never'}</dd>
        <dt>Network</dt><dd><Hash value={draft.network} /></dd>
      </dl>
      <details><summary>Bytes to sign (hex)</summary><code className="wrap">{toHex(draft.unsigned)}</code></details>
      <div className="row">
        <button type="button" onClick={onSign} disabled={busy}>{busy ? 'Sending…' : 'Sign and send'}</button>
        <button type="button" className="secondary" onClick={onCancel} disabled={busy}>Cancel</button>
      </div>
    </section>
  );
}

// Build a tx of `type` on `chain` (name) with the payload from makePayload(), show it decoded,
// sign and send it on confirmation, then follow it into its block. onDone(result) after that.
export function useSigner(me, onDone, { proof = true } = {}) {
  const [draft, setDraft] = useState(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);
  const [result, setResult] = useState(null);

  async function review(type, makePayload, { chain = 'settlement', explain } = {}) {
    setErr(null);
    setResult(null);
    try {
      const payload = makePayload();
      const [st, acc] = await Promise.all([api.status(), api.account(me.address)]);
      const t = { chain: CHAINS.indexOf(chain), type, sender: me.publicKey, nonce: acc.chains[chain].next_nonce,
        // business- and directory-chain txs carry no fee (fees are paid on the settlement chain)
        fee: chain === 'settlement' ? BigInt(st.fees.default) : 0n, expires: 0, payload };
      // a type with its own minimum fee pays that (as the CLI's sectx_min_fee does)
      const named = decodeTx(concat(encodeUnsigned(t), new Uint8Array(64))).typeName;
      const own = st.fees.types?.[named];
      if (chain === 'settlement' && own > 0) t.fee = BigInt(own);
      const unsigned = encodeUnsigned(t);
      const decoded = decodeTx(concat(unsigned, new Uint8Array(64)));
      setDraft({ unsigned, decoded, network: st.network_id, chain, explain });
    } catch (ex) { setErr(ex); }
  }

  async function signAndSend() {
    setBusy(true);
    setErr(null);
    const chain = draft.chain;
    try {
      if (!session) throw new Error('the key was closed; open it again');
      const sig = sign(sighash(fromHex(draft.network), draft.unsigned), session.secretKey);
      const raw = concat(draft.unsigned, sig);
      const id = toHex(txId(raw));
      const r = await api.submit(toHex(raw));
      if (r.id !== id) throw new Error('the node named another tx id than the bytes sent');
      setDraft(null);
      setResult({ id, chain, status: 'pending' });
      const t = await waitTx(id);
      const res = { id, chain, status: t.status, height: t.height, error: t.error };
      setResult(res);
      onDone(res);
    } catch (ex) { setErr(ex); } finally { setBusy(false); }
  }
  const reviewing = draft && <><Review draft={draft} busy={busy} explain={draft.explain} onSign={signAndSend} onCancel={() => setDraft(null)} /><ErrorLine error={err} /></>;
  const outcome = result && (
    <div className="result" role="status" data-testid="tx-result">
      {result.status === 'pending' ? <p>Sent <TxLink id={result.id} />; waiting for its block…</p> : (
        <>
          <p>Tx <TxLink id={result.id} /> is <strong>{result.status}</strong> in <BlockLink chain={result.chain} height={result.height} />{result.error ? `: ${result.error}` : ''}.</p>
          {proof && <ProofPanel id={result.id} chain={result.chain} />}
        </>)}
    </div>);
  return { review, reviewing, outcome, err, setErr, result };
}
