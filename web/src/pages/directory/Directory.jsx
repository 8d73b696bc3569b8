// Directory: search the catalogue (the node's own catalogue of its directory chain, the same
// search as `leben data search --directory`), an asset's six facets, its versions and
// provenance, its audit scores as a chart, and its private part opened in this browser for a
// reader (the view is logged on the business chain first, signed here, as the CLI does).
import { Fragment, useState } from 'react';
import { api } from '../../lib/api.js';
import { Link, navigate } from '../../lib/router.jsx';
import { fromHex } from '../../lib/codec.js';
import { ready } from '../../lib/crypto.js';
import { TX_TYPES, viewPayload } from '../../lib/tx.js';
import { openEnvelope, envelopeKeypair, envelopeNamesKey } from '../../lib/envelope.js';
import { decodeHexa, FIELDS, FACETS } from '../../lib/hexa.js';
import { KeyFileForm, useSigner, currentKey, publicView, closeKey } from '../../lib/signer.jsx';
import { useAsync, ErrorLine, Hash, TxLink, BlockLink, Time, AccountLink, Amount } from '../../lib/ui.jsx';
import { BarChart } from '../../lib/charts.jsx';

const FACET_TITLES = {
  basic: 'Basic: what it is', semantic: 'Semantic: what it is about', data: 'Data: format and features',
  exchange: 'Exchange: terms of use', dynamic: 'Dynamic: how the entry is kept', raw: 'Raw: digests and vault',
  audit: 'Audit',
};

function Search({ q0 }) {
  const [q, setQ] = useState(q0);
  const [where, setWhere] = useState('');
  const [ran, setRan] = useState(q0 ? { q: q0, where: [] } : null);
  const s = useAsync(() => (ran ? api.search(ran.q, ran.where) : Promise.resolve(null)), [ran]);
  function submit(e) {
    e.preventDefault();
    const w = where.split(',').map((x) => x.trim()).filter(Boolean);
    history.replaceState(null, '', `/directory?q=${encodeURIComponent(q)}`);
    setRan({ q, where: w });
  }
  return (
    <>
      <form className="card" role="search" onSubmit={submit} aria-labelledby="dir-h">
        <h2 id="dir-h">Search the directory</h2>
        <p className="muted">The public entries of live data assets, ranked as <code>leben data search --directory</code> ranks
          them (typos forgiven). Filters as its <code>--where</code>: <code>format=table</code>, <code>level&lt;=2</code>,
          <code>code=icd10|I10</code>, comma separated.</p>
        <div className="row">
          <label>Words <input value={q} onChange={(e) => setQ(e.target.value)} placeholder="hypertension" /></label>
          <label>Filters <input value={where} onChange={(e) => setWhere(e.target.value)} placeholder="format=table" spellCheck="false" /></label>
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorLine error={s.error} />
      {s.value && (
        <section className="card" aria-labelledby="res-h">
          <h2 id="res-h">{s.value.results.length} result{s.value.results.length === 1 ? '' : 's'} <span className="muted">(directory block {s.value.directory_height})</span></h2>
          {s.value.results.length ? (
            <ol className="results">
              {s.value.results.map((r) => (
                <li key={r.id} data-testid="search-hit">
                  <Link to={`/directory/asset/${r.id}`}>{r.name}</Link>{' '}
                  <span className="muted">audit: {r.audit.status === 'valid' ? `${(r.audit.score / 100).toFixed(2)} / 100 signed by ${r.audit.auditor_name || 'an audit node'}` : r.audit.status}</span>
                  <br /><Hash value={r.id} n={16} />
                </li>))}
            </ol>) : <p>Nothing matches. Fewer words, or other filters?</p>}
        </section>)}
    </>
  );
}

function show(field, v) {
  if (Array.isArray(v)) return v.join(', ');
  if (v && typeof v === 'object') return null;
  if (field === 'price') return <Amount micro={v} unit="ASC" />;
  if (/^(created|valid_from|valid_until)$/.test(field) && Number(v) > 0) return <Time ms={Number(v)} />;
  if (field === 'score') return `${(v / 100).toFixed(2)} / 100`;
  if (field === 'creator' && /^lb1/.test(v)) return <AccountLink address={v} />;
  if (typeof v === 'string' && /^[0-9a-f]{32,}$/.test(v)) return <Hash value={v} n={12} />;
  return String(v);
}

// One facet's fields; fields that are not public are named (their values are in the private part).
function Facet({ name, values, pub, testid }) {
  const priv = FIELDS.slice(1).filter(([f]) => f.startsWith(name + '.') && pub && !pub.includes(f)).map(([f]) => f.split('.')[1]);
  const entries = Object.entries(values || {});
  return (
    <section className="card facet" aria-labelledby={`f-${testid}-${name}`} data-testid={`${testid}-${name}`}>
      <h3 id={`f-${testid}-${name}`}>{FACET_TITLES[name]}</h3>
      {entries.length ? (
        <dl className="fields">
          {entries.map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k.replace(/_/g, ' ')}</dt>
              <dd data-testid={`${testid}-${name}-${k}`}>{show(k, v) ?? (
                <ul className="kv">{Object.entries(v).map(([a, b]) => <li key={a}><code>{a}</code>: {String(b)}</li>)}</ul>)}</dd>
            </Fragment>))}
        </dl>) : <p className="muted">No public field.</p>}
      {priv.length > 0 && <p className="muted small">Not public: {priv.join(', ')}</p>}
    </section>
  );
}

function AuditCard({ a }) {
  const hist = a.history.filter((h) => h.audit_score != null);
  const bars = hist.map((h) => ({ label: `v${h.version}`, value: h.audit_score / 100, note: 'owner' }));
  if (a.audit.status === 'valid' || a.audit.status === 'expired' || a.audit.status === 'outdated')
    bars.push({ label: 'audit node', value: a.audit.score / 100, note: a.audit.status, accent: true });
  return (
    <section className="card" aria-labelledby="audit-h" data-testid="audit">
      <h2 id="audit-h">Audit</h2>
      <p>The score that counts: <strong data-testid="audit-status">{a.audit.status === 'valid'
        ? `${(a.audit.score / 100).toFixed(2)} / 100, signed by ${a.audit.auditor_name || a.audit.auditor} at business block ${a.audit.height}`
        : a.audit.status === 'none' ? 'none yet (no audit node has signed a score)' : `${a.audit.status}${a.audit.score != null ? ` (${(a.audit.score / 100).toFixed(2)} / 100)` : ''}`}</strong>.
        {' '}The owner's own score of each version is shown beside it; it does not count.</p>
      <BarChart title="Audit scores (out of 100)" max={100} bars={bars} testid="audit-chart" />
      {a.entry.audit?.report && <p className="muted">Report digest of the current version: <Hash value={a.entry.audit.report} n={12} /></p>}
    </section>
  );
}

function HistoryCard({ h }) {
  return (
    <section className="card" aria-labelledby="hist-h">
      <h2 id="hist-h">Versions and provenance</h2>
      <div className="scroll"><table>
        <thead><tr><th scope="col">Version</th><th scope="col">Event</th><th scope="col">Block</th><th scope="col">When</th><th scope="col">By</th><th scope="col">Tx</th></tr></thead>
        <tbody>{h.map((e) => (
          <tr key={e.tx} data-testid="history-event">
            <td>{e.version}</td>
            <td>{e.type.replace('data.', '')}{e.kind ? `: ${e.kind}` : ''}{e.note ? ` — ${e.note}` : ''}{e.reason ? ` — ${e.reason}` : ''}
              {e.previous && <><br /><small>after <Hash value={e.previous} n={8} /></small></>}
              {e.private_bytes ? <><br /><small className="muted">private part sealed ({e.private_bytes} bytes)</small></> : null}</td>
            <td><BlockLink chain="directory" height={e.height} /></td>
            <td><Time ms={e.time_ms} /></td>
            <td><AccountLink address={e.by} /></td>
            <td><TxLink id={e.tx} /></td>
          </tr>))}</tbody>
      </table></div>
    </section>
  );
}

// The private part: open a key file, check the envelope names it, log the view (xchg.view,
// signed here), then open the envelope and decode the fields in this browser.
function PrivatePart({ a }) {
  const [me, setMe] = useState(publicView(currentKey()));
  const [opened, setOpened] = useState(null);
  const [err, setErr] = useState(null);
  const version = Number(a.attributes.entry_version);
  const env = useAsync(async () => fromHex((await api.tx(a.attributes.private_tx)).payload.private_envelope), [a.attributes.private_tx]);
  const s = useSigner(me, () => openIt(), { proof: false });
  async function openIt() {
    try {
      await ready();
      const k = currentKey();
      const x = envelopeKeypair(k.secretKey);
      const plain = openEnvelope(env.value, x, 1 << 20);
      setOpened(decodeHexa(plain));
    } catch (e) { setErr(e); }
  }
  async function start() {
    setErr(null);
    await ready();
    const x = envelopeKeypair(currentKey().secretKey);
    if (!envelopeNamesKey(env.value, x.pk)) {
      setErr(new Error(`not authorised: the private part of this asset is sealed to its owner's node, its owners and the readers the owner named, and ${me.name || me.address} is not one of them. Ask the owner to run 'leben data grant ${a.asset_id} --readers <your public key>'.`));
      return;
    }
    s.review(TX_TYPES.xchgView, () => viewPayload(fromHex(a.asset_id), 1, version),
      { chain: 'business', explain: 'the view of the private part is logged in the asset\'s history before it is opened' });
  }
  if (!me) return (
    <KeyFileForm onOpen={setMe} title="Open the private part" button="Open key file">
      <p className="muted">Readers the owner named open the private part with their key file. It is decrypted in this
        browser (the key never leaves it); the view is logged on the business chain first, as <code>leben data show --private</code> does.</p>
    </KeyFileForm>);
  return (
    <section className="card" aria-labelledby="priv-h">
      <h2 id="priv-h">Private part</h2>
      <p>Key <strong>{me.name}</strong> <code>{me.address}</code>{' '}
        <button type="button" className="link" onClick={() => { closeKey(); setMe(null); setOpened(null); }}>close key</button></p>
      <ErrorLine error={env.error} />
      {!opened && !s.reviewing && !s.result && env.value && <button type="button" onClick={start}>Log the view and open</button>}
      {s.reviewing || <ErrorLine error={s.err || err} />}
      {s.outcome}
      {opened && (
        <div data-testid="private-part">
          <p className="ok">Opened in this browser (version {version}).</p>
          <div className="facets">{FACETS.filter((f) => opened[f]).map((f) => <Facet key={f} name={f} values={opened[f]} testid="private" />)}</div>
          <details><summary>As JSON (as <code>leben data show --private --json</code> prints it)</summary>
            <pre className="wrap" data-testid="private-json">{JSON.stringify(opened, null, 2)}</pre></details>
        </div>)}
    </section>
  );
}

function Asset({ id }) {
  const s = useAsync(() => api.asset(id), [id]);
  if (s.loading) return <p aria-live="polite">Loading the asset…</p>;
  if (s.error) return <><ErrorLine error={s.error} /><p><Link to="/directory">Back to the search</Link></p></>;
  const a = s.value, e = a.entry;
  return (
    <div className="asset">
      <section className="card" aria-labelledby="asset-h">
        <h2 id="asset-h" data-testid="asset-name">{e.basic?.name}</h2>
        <p><Hash value={a.asset_id} n={16} /> · version {a.attributes.entry_version} · owner <AccountLink address={a.attributes.sender} />
          {' '}· <Link to="/directory">search again</Link></p>
      </section>
      <div className="facets">{FACETS.filter((f) => f !== 'audit').map((f) => <Facet key={f} name={f} values={e[f]} pub={e.public} testid="facet" />)}</div>
      <div className="grid2">
        <AuditCard a={a} />
        <HistoryCard h={a.history} />
      </div>
      {a.attributes.private_tx ? <PrivatePart a={a} /> : <p className="card">Every field of this asset is public.</p>}
    </div>
  );
}

export default function Directory({ path }) {
  const m = /^\/directory\/asset\/([^/]+)/.exec(path);
  if (m) return <Asset id={m[1]} />;
  return <Search q0={new URLSearchParams(location.search).get('q') || ''} />;
}
