// Exchange: the offers on the business chain and the requests made of them; the owner's
// approval queue (the algorithm's hash and the output policy shown; approve or reject signed
// here after the decoded tx is shown); a request's escrow, run log and sealed result, opened in
// this browser with the user's key (checked against the hash on the chain first).
import { useState } from 'react';
import { api } from '../../lib/api.js';
import { Link } from '../../lib/router.jsx';
import { ready, hash } from '../../lib/crypto.js';
import { fromHex, toHex, equalBytes } from '../../lib/codec.js';
import { TX_TYPES, approvePayload, requestPayload, escrowOpenPayload, builtinAlgorithmHash, SCENARIOS } from '../../lib/tx.js';
import { addressDecode, addressEncode, addressOfKey } from '../../lib/address.js';
import { parseAmount } from '../../lib/codec.js';
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

const BUILTINS = ['stats', 'crosstab', 'linreg', 'logreg', 'kmeans', 'km'];

// A user's request of an offer: the algorithm (a built-in one by name, or any published
// algorithm by its hash), its parameters and purpose; xchg.request shown decoded, signed here.
function RequestForm({ o, me, onDone }) {
  const [algo, setAlgo] = useState('stats');
  const [other, setOther] = useState('');
  const [paramsText, setParams] = useState('{"columns":[]}');
  const [purpose, setPurpose] = useState('');
  const [scenario, setScenario] = useState(0);
  const [made, setMade] = useState(null);
  const s = useSigner(me, (res) => { setMade(res); onDone(); }, { proof: false });
  let algoHash = '', algoErr = null;
  try {
    algoHash = algo === 'hash' ? (/^[0-9a-f]{64}$/.test(other) ? other : '') : toHex(builtinAlgorithmHash(algo));
    if (!algoHash) algoErr = 'give the algorithm\'s hash: 64 hex digits';
  } catch { /* libsodium not ready yet */ }
  if (s.reviewing) return s.reviewing;
  return (
    <form className="card" aria-label="Make a request" data-testid="request-form" onSubmit={(e) => {
      e.preventDefault();
      if (algoErr) { s.setErr(new Error(algoErr)); return; }
      s.review(TX_TYPES.xchgRequest, () => requestPayload(fromHex(o.asset), fromHex(algoHash), Number(scenario), purpose, paramsText.trim()),
        { chain: 'business', explain: 'you ask the owner to run this algorithm on its data' });
    }}>
      <h3>Make a request</h3>
      <label>Algorithm <select value={algo} onChange={(e) => setAlgo(e.target.value)}>
        {BUILTINS.map((n) => <option key={n} value={n}>{n} (built in)</option>)}
        <option value="hash">a published algorithm, by its hash</option></select></label>
      {algo === 'hash' && <label>Algorithm hash <input value={other} onChange={(e) => setOther(e.target.value.trim())} placeholder="64 hex digits" /></label>}
      <p>Algorithm hash: <code data-testid="request-algorithm">{algoHash || '—'}</code></p>
      <label>Parameters (JSON) <input value={paramsText} onChange={(e) => setParams(e.target.value)} maxLength={4096} /></label>
      <label>Purpose <input value={purpose} onChange={(e) => setPurpose(e.target.value)} maxLength={256} required placeholder="what the result is for" /></label>
      <label>Where it runs <select value={scenario} onChange={(e) => setScenario(e.target.value)}>
        {SCENARIOS.map((n, i) => <option key={n} value={i}>{n}</option>)}</select></label>
      <p className="muted">The offer's output policy above decides what you may see: results over fewer patients than its minimum
        cohort, or larger than its largest output, are withheld.</p>
      <button type="submit">Review the request</button>
      <ErrorLine error={s.err} />
      {s.outcome}
      {made && made.status === 'committed' && <p data-testid="request-made">Request <Link to={`/exchange/request/${made.id}`}><Hash value={made.id} /></Link> made.</p>}
    </form>);
}

function Offers({ market, me, onDone }) {
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
      {me && me.address !== o.owner && o.status === 'offered' && <RequestForm o={o} me={me} onDone={onDone} />}
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
      {s.value && (s.value.length ? <Offers market={s.value} me={me} onDone={() => setRefresh((x) => x + 1)} /> : <p className="card">No asset is on offer yet (<code>leben exchange offer</code>).</p>)}
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

// The user pays: escrow.open locks the data and algorithm fees (ASC) and the computing fee
// (CSC) for the executor; the terms come from the node's dry run of the request
// (POST /v1/exchange/check, as `leben exchange escrow` does), and the page shows them decoded.
function EscrowForm({ r, me, onDone }) {
  const [executor, setExecutor] = useState('');
  const [fee, setFee] = useState('2');
  const [err, setErr] = useState(null);
  const s = useSigner(me, onDone);
  const node = useAsync(async () => {
    await ready();
    const st = await api.status();
    return st.node_key ? addressEncode(addressOfKey(fromHex(st.node_key))) : '';
  }, []);
  const exec = executor || node.value || '';
  async function go(e) {
    e.preventDefault();
    setErr(null);
    try {
      const ex = addressDecode(exec);
      const plan = await api.checkRun(r.request, exec);
      const t = plan.terms;
      const st = await api.status();
      const payload = escrowOpenPayload({ user: addressDecode(t.user), request: fromHex(r.request), owner: addressDecode(t.owner),
        data_fee: t.data_fee, author: addressDecode(t.author), algo_fee: t.algo_fee, executor: ex, compute_fee: parseAmount(fee) },
      st.chains.settlement.height + 100);
      await s.review(TX_TYPES.escrowOpen, () => payload, { chain: 'settlement',
        explain: `you lock the fees for executor ${exec.slice(0, 12)}…; released to the owner and executor when the result is delivered, refunded otherwise (after 100 settlement blocks)` });
    } catch (ex) { setErr(ex); }
  }
  if (s.reviewing) return s.reviewing;
  return (
    <form onSubmit={go} aria-label="Pay into escrow" data-testid="escrow-form">
      <p>Approved: lock the fees so that the run can start.</p>
      <label>Executor (address) <input value={exec} onChange={(e) => setExecutor(e.target.value.trim())} /></label>
      <p className="muted">{node.value && exec === node.value ? 'This node (it runs the request when you ask it below).' : 'An executor the owner granted the execution right.'}</p>
      <label>Computing fee (CSC) <input value={fee} onChange={(e) => setFee(e.target.value)} inputMode="decimal" /></label>
      <button type="submit">Review the escrow</button>
      <ErrorLine error={err || s.err} />
      {s.outcome}
    </form>);
}

// Ask this node to run the request as the escrow's executor (POST /v1/exchange/runs), then
// follow the run (GET /v1/exchange/runs/{escrow}) until it ends.
function RunButton({ r, esc, onDone }) {
  const [busy, setBusy] = useState(false);
  const [res, setRes] = useState(null);
  const [err, setErr] = useState(null);
  const node = useAsync(async () => {
    await ready();
    const st = await api.status();
    return st.node_key ? addressEncode(addressOfKey(fromHex(st.node_key))) : '';
  }, []);
  if (!node.value || node.value !== esc.executor) return <p className="muted">The executor <AccountLink address={esc.executor} /> runs it.</p>;
  async function go() {
    setBusy(true);
    setErr(null);
    try {
      // the node runs it in the background; its state until done or failed
      let x = await api.runRequest(r.request, esc.escrow);
      for (let t0 = Date.now(); x.status === 'running'; ) {
        if (Date.now() - t0 > 300000) throw new Error('the run has not ended after 5 minutes; look again later');
        await new Promise((ok) => setTimeout(ok, 700));
        x = await api.runState(esc.escrow);
      }
      if (x.status === 'failed') throw new Error(`the run failed: ${x.error}`);
      setRes(x.run);
      onDone();
    } catch (e) { setErr(e); } finally { setBusy(false); }
  }
  return (
    <div>
      <button type="button" onClick={go} disabled={busy}>{busy ? 'Running…' : 'Run it on this node'}</button>
      <ErrorLine error={err} />
      {res && <p role="status" data-testid="run-result">Run {res.status}: {res.algorithm} ({res.scenario}) over {res.patients_used} patients
        {res.patients_left_out ? `, ${res.patients_left_out} left out (no consent, or revoked)` : ''}{res.reason ? ` — ${res.reason}` : ''}.</p>}
    </div>);
}

// Before the run the request does not name its escrow (the run records it): the user's
// escrow.open for this request among the user's latest 100 txs.
async function userEscrow(r) {
  const page = await api.accountTxs(r.user, 0, 100);
  for (const x of page.txs) {
    if (x.type !== 'escrow.open' || (x.payload?.request ?? x.payload?.terms?.request) !== r.request) continue;
    try { return await api.escrow(x.id); } catch (e) { if (e.status !== 404) throw e; }
  }
  return null;
}

function RequestPage({ id }) {
  const [me, setMe] = useState(publicView(currentKey()));
  const [refresh, setRefresh] = useState(0);
  const again = () => setRefresh((x) => x + 1);
  const s = useAsync(async () => {
    const r = await api.request(id);
    const [tx, log, esc] = await Promise.all([api.tx(id), api.xlog(id), r.escrow ? api.escrow(r.escrow) : userEscrow(r)]);
    return { r, tx, log, esc };
  }, [id, refresh]);
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
            </dl>) : r.status === 'approved' && me && me.address === r.user ? <EscrowForm r={r} me={me} onDone={again} />
            : <p>No escrow yet{r.status === 'approved' ? ': the user who made the request pays into it (open that key below)' : ''}.</p>}
          {esc && esc.status === 'open' && <RunButton r={r} esc={esc} onDone={again} />}
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
