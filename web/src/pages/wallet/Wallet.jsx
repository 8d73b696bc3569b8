// Wallet: open a key file (decrypted here, never sent), see ASC/CSC balances and history,
// transfer. Before signing, the page decodes the exact bytes it will sign and shows them.
import { useEffect, useState } from 'react';
import { api, waitTx } from '../../lib/api.js';
import { ready, lib } from '../../lib/crypto.js';
import { fromHex, toHex, parseAmount, concat } from '../../lib/codec.js';
import { addressDecode } from '../../lib/address.js';
import { parseKeyFile, openKeyFile } from '../../lib/keystore.js';
import { encodeUnsigned, decodeTx, sighash, txId, transferPayload, convertPayload, TX_TYPES } from '../../lib/tx.js';
import { sign } from '../../lib/crypto.js';
import { Amount, ErrorLine, Hash, TxLink, BlockLink, ProofPanel, Time } from '../../lib/ui.jsx';
import { Balances, History } from './Account.jsx';

// The open key lives only in this module's memory; closing the wallet wipes it.
let session = null;

function SignIn({ onOpen }) {
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
      onOpen(k);
    } catch (ex) { setErr(ex); } finally { setBusy(false); }
  }
  return (
    <form className="card" onSubmit={open} aria-labelledby="signin-h">
      <h2 id="signin-h">Open your wallet</h2>
      <p className="muted">The key file is the one <code>leben keys new</code> wrote (for the demo node:
        <code> .leben-demo/keys/alice.key</code>, passphrase <code>demo</code>). It is decrypted in this
        browser; the passphrase and the private key are never sent anywhere.</p>
      <label>Key file <input type="file" accept=".key,application/json" required
        onChange={(e) => setFile(e.target.files[0] || null)} /></label>
      <label>Passphrase <input type="password" autoComplete="current-password" value={pass}
        onChange={(e) => setPass(e.target.value)} required /></label>
      <button type="submit" disabled={!file || busy}>{busy ? 'Opening…' : 'Open wallet'}</button>
      <ErrorLine error={err} />
    </form>
  );
}

// What is about to be signed, decoded from the bytes themselves (not from the form).
function Review({ draft, onSign, onCancel, busy }) {
  const d = draft.decoded;
  const f = d.fields;
  return (
    <section className="card review" aria-labelledby="rev-h">
      <h2 id="rev-h">Check what you sign</h2>
      <p className="muted">Decoded from the {draft.unsigned.length} bytes this page will sign:</p>
      <dl className="fields" data-testid="review">
        <dt>Chain</dt><dd>{d.chain}</dd>
        <dt>Type</dt><dd>{d.typeName}</dd>
        <dt>From</dt><dd><code>{d.senderAddress}</code></dd>
        {f.to !== undefined && <><dt>To</dt><dd><code data-testid="review-to">{f.to}</code></dd></>}
        <dt>Amount</dt><dd data-testid="review-amount"><Amount micro={f.amount} unit={f.asset || (d.typeName === 'convert' ? 'CSC' : '')} />
          {d.typeName === 'convert' && <span className="muted"> in, ASC out at the network's conversion rate</span>}</dd>
        {f.memo !== undefined && <><dt>Memo</dt><dd>{f.memo || <span className="muted">none</span>}</dd></>}
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

// Build a settlement tx of `type` with the payload from makePayload(), show it decoded, sign
// and send it on confirmation, then follow it into its block.
function useSigner(me, onDone) {
  const [draft, setDraft] = useState(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);
  const [result, setResult] = useState(null);

  async function review(type, makePayload) {
    setErr(null);
    setResult(null);
    try {
      const payload = makePayload();
      const [st, acc] = await Promise.all([api.status(), api.account(me.address)]);
      const t = { chain: 0, type, sender: me.publicKey, nonce: acc.chains.settlement.next_nonce,
        fee: BigInt(st.fees.default), expires: 0, payload };
      const unsigned = encodeUnsigned(t);
      const decoded = decodeTx(concat(unsigned, new Uint8Array(64)));
      setDraft({ unsigned, decoded, network: st.network_id });
    } catch (ex) { setErr(ex); }
  }

  async function signAndSend() {
    setBusy(true);
    setErr(null);
    try {
      const sig = sign(sighash(fromHex(draft.network), draft.unsigned), session.secretKey);
      const raw = concat(draft.unsigned, sig);
      const id = toHex(txId(raw));
      const r = await api.submit(toHex(raw));
      if (r.id !== id) throw new Error('the node named another tx id than the bytes sent');
      setDraft(null);
      setResult({ id, status: 'pending' });
      const t = await waitTx(id);
      setResult({ id, status: t.status, height: t.height, error: t.error });
      onDone();
    } catch (ex) { setErr(ex); } finally { setBusy(false); }
  }
  const reviewing = draft && <><Review draft={draft} busy={busy} onSign={signAndSend} onCancel={() => setDraft(null)} /><ErrorLine error={err} /></>;
  const outcome = result && (
    <div className="result" role="status" data-testid="tx-result">
      {result.status === 'pending' ? <p>Sent <TxLink id={result.id} />; waiting for its block…</p> : (
        <>
          <p>Tx <TxLink id={result.id} /> is <strong>{result.status}</strong> in <BlockLink chain="settlement" height={result.height} />{result.error ? `: ${result.error}` : ''}.</p>
          <ProofPanel id={result.id} chain="settlement" />
        </>)}
    </div>);
  return { review, reviewing, outcome, err, setErr };
}

function Transfer({ me, onDone }) {
  const [to, setTo] = useState('');
  const [asset, setAsset] = useState('1');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const s = useSigner(me, () => { setAmount(''); setMemo(''); onDone(); });
  const review = (e) => {
    e.preventDefault();
    s.review(TX_TYPES.transfer, () => {
      const to20 = addressDecode(to);
      const amt = parseAmount(amount);
      if (amt <= 0n) throw new Error('the amount must be more than 0');
      if (new TextEncoder().encode(memo).length > 256) throw new Error('the memo is longer than 256 bytes');
      return transferPayload(to20, Number(asset), amt, memo);
    });
  };
  if (s.reviewing) return s.reviewing;
  return (
    <form className="card" onSubmit={review} aria-labelledby="tr-h">
      <h2 id="tr-h">Transfer</h2>
      <label>To (address) <input value={to} onChange={(e) => setTo(e.target.value)} placeholder="lb1…" required spellCheck="false" autoComplete="off" /></label>
      <div className="row">
        <label>Amount <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder="12.5" required /></label>
        <label>Credit <select value={asset} onChange={(e) => setAsset(e.target.value)}>
          <option value="1">ASC</option><option value="2">CSC</option></select></label>
      </div>
      <label>Memo <input value={memo} onChange={(e) => setMemo(e.target.value)} maxLength={256} /></label>
      <button type="submit">Review</button>
      <ErrorLine error={s.err} />
      {s.outcome}
    </form>
  );
}

function Convert({ me, onDone }) {
  const [amount, setAmount] = useState('');
  const s = useSigner(me, () => { setAmount(''); onDone(); });
  const review = (e) => {
    e.preventDefault();
    s.review(TX_TYPES.convert, () => {
      const amt = parseAmount(amount);
      if (amt <= 0n) throw new Error('the amount must be more than 0');
      return convertPayload(amt);
    });
  };
  if (s.reviewing) return s.reviewing;
  return (
    <form className="card" onSubmit={review} aria-labelledby="cv-h">
      <h2 id="cv-h">Convert CSC to ASC</h2>
      <label>CSC to convert <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder="5" required /></label>
      <button type="submit">Review conversion</button>
      <ErrorLine error={s.err} />
      {s.outcome}
    </form>
  );
}

export default function Wallet() {
  const [me, setMe] = useState(session && { address: session.address, name: session.name, publicKey: session.publicKey });
  const [refresh, setRefresh] = useState(0);
  function close() {
    if (session) { lib().memzero(session.secretKey); session = null; }
    setMe(null);
  }
  if (!me) return <SignIn onOpen={(k) => { session = k; setMe({ address: k.address, name: k.name, publicKey: k.publicKey }); }} />;
  return (
    <div className="wallet">
      <section className="card who" aria-label="Open account">
        <p>Account <strong>{me.name}</strong> <code data-testid="my-address">{me.address}</code></p>
        <button type="button" className="secondary" onClick={close}>Close wallet</button>
      </section>
      <div className="grid2">
        <Balances address={me.address} refresh={refresh} />
        <Transfer me={me} onDone={() => setRefresh((x) => x + 1)} />
      </div>
      <Convert me={me} onDone={() => setRefresh((x) => x + 1)} />
      <History address={me.address} refresh={refresh} />
    </div>
  );
}
