// Exchange: the offers on the business chain and the requests made of them; the owner's
// approval queue (the algorithm's hash and the output policy shown; approve or reject signed
// here after the decoded tx is shown); a request's escrow, run log and sealed result, opened in
// this browser with the user's key (checked against the hash on the chain first).
import { useState } from 'react';
import { api } from '../../lib/api.js';
import { Link } from '../../lib/router.jsx';
import { ready, hash } from '../../lib/crypto.js';
import { fromHex, toHex, equalBytes } from '../../lib/codec.js';
import { TX_TYPES, approvePayload } from '../../lib/tx.js';
import { openEnvelope, envelopeKeypair } from '../../lib/envelope.js';
import { KeyFileForm, useSigner, currentKey, publicView, closeKey } from '../../lib/signer.jsx';
import { useAsync, ErrorLine, Hash, TxLink, BlockLink, AccountLink, Amount } from '../../lib/ui.jsx';

const params = (p) => (typeof p === 'string' ? p : JSON.stringify(p));

// Offers with their requests (from each asset's log) and the request views and txs.
async function loadMarket() {
  const a = await api.audits();
  const offers = [];
  for (const x of a.assets) {
    const [offer, log] = await Promise.all([api.offer(x.asset), api.xlog(x.asset)]);
    let name = null;
    try { name = (await api.asset(x.asset)).entry.basic.name; } catch { /* not a data-layer entry */ }
    const requests = [];
    for (const e of log.events.filter((ev) => ev.type === 'xchg.request')) {
      const [r, tx] = await Promise.all([api.request(e.tx), api.tx(e.tx)]);
      requests.push({ ...r, purpose: tx.payload.purpose, params: params(tx.payload.params) });
    }
    offers.push({ offer, name, requests: requests.reverse() });
  }
  return offers;
}

function Policy({ o }) {
  return (
    <dl className="fields" data-testid="policy">
      <dt>Price per run</dt><dd><Amount micro={o.data_fee} unit="ASC" /></dd>
      <dt>Minimum cohort</dt><dd>{o.min_cohort} patients</dd>
      <dt>Largest output</dt><dd>{o.max_output.toLocaleString()} bytes</dd>
      <dt>Noise (ε per release)</dt><dd>{o.epsilon ? `${o.epsilon / 1e6} (user budget ${o.budget_user / 1e6}, patient budget ${o.budget_patient / 1e6})` : 'none'}</dd>
      <dt>Where it runs</dt><dd>{o.local_only ? 'only at the owner (local only)' : 'at the owner or an executor it grants'}</dd>
      <dt>Pre-approved algorithms</dt><dd>{o.allow?.length ? o.allow.map((h) => <Hash key={h} value={h} />) : 'none: the owner approves each request'}</dd>
    </dl>
  );
}

function Decide({ r, me, onDone }) {
  const [reason, setReason] = useState('');
  const s = useSigner(me, onDone, { proof: false });
  const go = (decision) => s.review(TX_TYPES.xchgApprove, () => approvePayload(fromHex(r.request), decision, reason),
    { chain: 'business', explain: decision === 1 ? 'you approve this request' : 'you reject this request' });
  if (s.reviewing) return s.reviewing;
  return (
    <div>
      <label>Reason <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={256} placeholder="aggregate statistics only" /></label>
      <div className="row">
        <button type="button" onClick={() => go(1)}>Approve</button>
        <button type="button" className="secondary" onClick={() => go(2)}>Reject</button>
      </div>
      <ErrorLine error={s.err} />
      {s.outcome}
    </div>
  );
}

// The owner's approval queue: pending requests on assets the open key owns.
function Queue({ market, me, onDone }) {
  const [last, setLast] = useState(null);
  const mine = market.filter((m) => m.offer.owner === me.address);
  const pending = mine.flatMap((m) => m.requests.filter((r) => r.status === 'pending').map((r) => ({ r, m })));
  return (
    <section className="card" aria-labelledby="q-h">
      <h2 id="q-h">Approval queue <span className="muted">({pending.length} pending on {mine.length} offer{mine.length === 1 ? '' : 's'} of {me.name || me.address})</span></h2>
      {last && <p role="status" data-testid="decision-result">Your decision <TxLink id={last.id} /> is <strong>{last.status}</strong> in <BlockLink chain="business" height={last.height} />{last.error ? `: ${last.error}` : ''}.</p>}
      {pending.length === 0 && <p>Nothing waits for your decision.</p>}
      {pending.map(({ r, m }) => (
        <article key={r.request} className="card" data-testid="queue-item" aria-label={`Request ${r.request.slice(0, 10)}`}>
          <h3>Request <Link to={`/exchange/request/${r.request}`}><Hash value={r.request} /></Link> on {m.name || <Hash value={m.offer.asset} />}</h3>
          <dl className="fields">
            <dt>User</dt><dd><AccountLink address={r.user} /></dd>
            <dt>Purpose</dt><dd data-testid="queue-purpose">{r.purpose}</dd>
            <dt>Algorithm</dt><dd>{r.algorithm_info?.name || 'unnamed'}{r.algorithm_info?.builtin ? ' (built in)' : r.algorithm_info?.author ? <> by <AccountLink address={r.algorithm_info.author} /></> : ''}<br />
              <code data-testid="queue-algorithm">{r.algorithm}</code></dd>
            <dt>Parameters</dt><dd><code>{r.params}</code></dd>
            <dt>Scenario asked</dt><dd>{r.scenario_asked}</dd>
          </dl>
          <h4>Output policy of the offer</h4>
          <Policy o={m.offer} />
          <Decide r={r} me={me} onDone={(res) => { setLast(res); onDone(); }} />
        </article>))}
    </section>
  );
}

function Offers({ market }) {
  return market.map(({ offer: o, name, requests }) => (
    <section key={o.asset} className="card" aria-label={`Offer ${name || o.asset.slice(0, 10)}`} data-testid="offer">
      <h2>{name || 'Asset'} <span className="muted">offered by <AccountLink address={o.owner} /> · {o.status}</span></h2>
      <p><Link to={`/directory/asset/${o.asset}`}>Directory entry</Link> · <Hash value={o.asset} n={12} /></p>
      <Policy o={o} />
      <h3>Requests ({requests.length})</h3>
      {requests.length === 0 ? <p>None yet.</p> : (
        <div className="scroll"><table>
          <thead><tr><th scope="col">Request</th><th scope="col">User</th><th scope="col">Algorithm</th><th scope="col">Purpose</th><th scope="col">Status</th></tr></thead>
          <tbody>{requests.map((r) => (
            <tr key={r.request} data-testid="request-row">
              <td><Link to={`/exchange/request/${r.request}`}><Hash value={r.request} /></Link></td>
              <td><AccountLink address={r.user} /></td>
              <td>{r.algorithm_info?.name || <Hash value={r.algorithm} />}</td>
              <td>{r.purpose}</td>
              <td data-testid="request-status">{r.status}{r.approved_by && r.approved_by !== 'nobody' ? ` (by ${r.approved_by})` : ''}</td>
            </tr>))}</tbody>
        </table></div>)}
    </section>));
}

function KeyPanel({ me, setMe, children }) {
  if (!me) return (
    <KeyFileForm onOpen={setMe} title="Open your key" button="Open key file">
      <p className="muted">An asset's owner opens its key to approve or reject requests; a user opens its key to open its
        sealed results. The key is decrypted in this browser and never sent.</p>
    </KeyFileForm>);
  return (
    <>
      <section className="card who" aria-label="Open key">
        <p>Key <strong>{me.name}</strong> <code data-testid="my-address">{me.address}</code></p>
        <button type="button" className="secondary" onClick={() => { closeKey(); setMe(null); }}>Close key</button>
      </section>
      {children}
    </>);
}

function Market() {
  const [me, setMe] = useState(publicView(currentKey()));
  const [refresh, setRefresh] = useState(0);
  const s = useAsync(loadMarket, [refresh]);
  return (
    <>
      <KeyPanel me={me} setMe={setMe}>
        {s.value && <Queue market={s.value} me={me} onDone={() => setRefresh((x) => x + 1)} />}
      </KeyPanel>
      {s.loading && !s.value && <p aria-live="polite">Loading the offers…</p>}
      <ErrorLine error={s.error} />
      {s.value && (s.value.length ? <Offers market={s.value} /> : <p className="card">No asset is on offer yet (<code>leben exchange offer</code>).</p>)}
    </>
  );
}

// The sealed result: checked against the hash on the chain, opened with the user's key.
function Result({ r, me }) {
  const [text, setText] = useState(null);
  const [err, setErr] = useState(null);
  const s = useAsync(async () => {
    await ready();
    const res = await api.results(r.request);
    if (!res.sealed) return { res, match: false };
    const sealed = fromHex(res.sealed);
    return { res, sealed, match: equalBytes(hash(null, sealed), fromHex(r.result_hash)) };
  }, [r.request]);
  function open() {
    setErr(null);
    try {
      const plain = openEnvelope(s.value.sealed, envelopeKeypair(currentKey().secretKey), 4 << 20);
      let n = plain.length;
      while (n > 0 && plain[n - 1] === 0x20) n--; // lb_release_unpad: the size bucket's padding
      setText(new TextDecoder().decode(plain.subarray(0, n)));
    } catch (e) {
      setErr(e.code === 'EWRONGKEY' ? new Error('only the user who made the request can open its result: this key is not one its result is sealed to') : e);
    }
  }
  if (s.loading) return <p>Fetching the sealed result…</p>;
  if (s.error) return <ErrorLine error={s.error} />;
  const v = s.value;
  return (
    <div>
      {v.res.sealed ? <p>Sealed result: {v.sealed.length} bytes, <span className={v.match ? 'ok' : 'bad'} data-testid="result-hash">
        {v.match ? '✓ matches the hash on the business chain' : '✗ does NOT match the hash on the business chain'}</span></p>
        : <p>No sealed result is kept for this request (withheld or failed runs leave only their sealed reason).</p>}
      {v.match && !text && (me ? <button type="button" onClick={open}>Open the result</button> : <p className="muted">Open the requesting user's key above to open it.</p>)}
      <ErrorLine error={err} />
      {text !== null && <><p className="ok">Opened in this browser.</p><pre className="wrap result" data-testid="result-text">{text}</pre></>}
    </div>
  );
}

function RequestPage({ id }) {
  const [me, setMe] = useState(publicView(currentKey()));
  const s = useAsync(async () => {
    const r = await api.request(id);
    const [tx, log, esc] = await Promise.all([api.tx(id), api.xlog(id), r.escrow ? api.escrow(r.escrow) : Promise.resolve(null)]);
    return { r, tx, log, esc };
  }, [id]);
  if (s.loading) return <p aria-live="polite">Loading the request…</p>;
  if (s.error) return <><ErrorLine error={s.error} /><p><Link to="/exchange">All offers</Link></p></>;
  const { r, tx, log, esc } = s.value;
  return (
    <>
      <section className="card" aria-labelledby="req-h">
        <h2 id="req-h">Request <Hash value={r.request} /> <span className="muted">· <Link to="/exchange">all offers</Link></span></h2>
        <dl className="fields">
          <dt>Status</dt><dd data-testid="req-status"><strong>{r.status}</strong>{r.approved_by ? ` (approved by ${r.approved_by})` : ''}</dd>
          <dt>User</dt><dd><AccountLink address={r.user} /></dd>
          <dt>Asset</dt><dd><Link to={`/directory/asset/${r.asset}`}><Hash value={r.asset} /></Link></dd>
          <dt>Purpose</dt><dd>{tx.payload.purpose}</dd>
          <dt>Algorithm</dt><dd>{r.algorithm_info?.name} <code>{r.algorithm}</code></dd>
          <dt>Parameters</dt><dd><code>{params(tx.payload.params)}</code></dd>
          {r.scenario && <><dt>Scenario</dt><dd>{r.scenario} ({r.chosen_by}): {r.scenario_why}</dd></>}
          {r.executor && <><dt>Executor</dt><dd><AccountLink address={r.executor} /></dd></>}
        </dl>
      </section>
      <div className="grid2">
        <section className="card" aria-labelledby="esc-h">
          <h2 id="esc-h">Escrow</h2>
          {esc ? (
            <dl className="fields" data-testid="escrow">
              <dt>Status</dt><dd data-testid="escrow-status"><strong>{esc.status}</strong></dd>
              <dt>Data fee</dt><dd><Amount micro={esc.data_fee} unit="ASC" /> to <AccountLink address={esc.owner} /></dd>
              <dt>Algorithm fee</dt><dd><Amount micro={esc.algo_fee} unit="ASC" /></dd>
              <dt>Computing fee</dt><dd><Amount micro={esc.compute_fee} unit="CSC" /> to <AccountLink address={esc.executor} /></dd>
              <dt>Escrow</dt><dd><TxLink id={esc.escrow} /></dd>
            </dl>) : <p>No escrow yet (<code>leben exchange escrow</code>).</p>}
        </section>
        <section className="card" aria-labelledby="res-h">
          <h2 id="res-h">Result</h2>
          {r.result_hash ? <Result r={r} me={me} /> : <p>No result yet{r.reason_code ? ` (reason code ${r.reason_code})` : ''}.</p>}
        </section>
      </div>
      <section className="card" aria-labelledby="log-h">
        <h2 id="log-h">Run log</h2>
        <div className="scroll"><table>
          <thead><tr><th scope="col">Block</th><th scope="col">What</th><th scope="col">By</th><th scope="col">Tx</th></tr></thead>
          <tbody>{log.events.map((e) => (
            <tr key={e.tx} data-testid="log-event"><td><BlockLink chain="business" height={e.height} /></td>
              <td>{e.what}{e.type === 'xchg.exec' ? ` (${e.details.scenario}, ${e.details.patients.length} patients)` : ''}
                {e.type === 'xchg.approve' ? `: ${e.details.decision}${e.details.reason ? ` — ${e.details.reason}` : ''}` : ''}
                {e.type === 'xchg.result' ? `: ${e.details.status}` : ''}</td>
              <td><AccountLink address={e.by} /></td><td><TxLink id={e.tx} /></td></tr>))}</tbody>
        </table></div>
      </section>
      <KeyPanel me={me} setMe={setMe} />
    </>
  );
}

export default function Exchange({ path }) {
  const m = /^\/exchange\/request\/([^/]+)/.exec(path);
  return m ? <RequestPage id={m[1]} /> : <Market />;
}
