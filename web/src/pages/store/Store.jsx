// Store: the knowledge store's listings (GET /v1/store/*) browsed by page and sorted by rating,
// price or calls, searched in natural language; a listing's ratings, outcome statistics and
// family tree (SVG); a licence, a paid call or a rating signed in the page (decoded first). Below,
// the published contracts on the business chain, each opened in the designer.
import { useState, useRef } from 'react';
import { api } from '../../lib/api.js';
import { Link } from '../../lib/router.jsx';
import { fromHex } from '../../lib/codec.js';
import { KeyFileForm, useSigner, currentKey, publicView } from '../../lib/signer.jsx';
import { parseAmount } from '../../lib/codec.js';
import { TX_TYPES, storeListPayload, RELATIONS, storeBuyPayload, storeCallPayload, storeRatePayload, storeOutcomePayload, marketPayPayload, OUTCOMES } from '../../lib/tx.js';
import { addressDecode } from '../../lib/address.js';
import { useAsync, ErrorLine, Hash, AccountLink, Time, BlockLink, Amount } from '../../lib/ui.jsx';

const Stars = ({ r, n }) => <span title={`${r.toFixed(2)} of 5`}>{'★'.repeat(Math.round(r))}{'☆'.repeat(5 - Math.round(r))} <small className="muted">{r.toFixed(1)} ({n})</small></span>;

function ListingRows({ rows, score }) {
  return (
    <div className="scroll"><table>
      <thead><tr><th scope="col">Listing</th><th scope="col">Kind</th><th scope="col">Call</th><th scope="col">Licence</th><th scope="col">Rating</th><th scope="col">Calls</th>{score && <th scope="col">Score</th>}</tr></thead>
      <tbody>{rows.map((l) => (
        <tr key={l.id} data-testid="listing-row">
          <td><Link to={`/store/listing/${l.id}`}>{l.title}</Link><br /><small className="muted">{l.specialty} · v{l.version}</small></td>
          <td>{l.kind}</td>
          <td data-testid="listing-price"><Amount micro={l.price_call} unit="ASC" /></td>
          <td><Amount micro={l.price_licence} unit="ASC" /></td>
          <td data-testid="listing-rating" data-rating={l.rating}><Stars r={l.rating || 0} n={l.ratings} /></td>
          <td data-testid="listing-calls">{l.calls}</td>
          {score && <td>{Number(l.score).toFixed(2)}</td>}
        </tr>))}</tbody>
    </table></div>);
}

function Listings() {
  const [sort, setSort] = useState('new');
  const [page, setPage] = useState(0);
  const [q, setQ] = useState('');
  const [asked, setAsked] = useState('');
  const size = 10;
  const s = useAsync(() => api.listings(page * size, size, sort), [page, sort]);
  const found = useAsync(() => (asked ? api.storeSearch(asked) : Promise.resolve(null)), [asked]);
  return (
    <section className="card" aria-labelledby="ls-h">
      <h2 id="ls-h">Knowledge store {s.value && <span className="muted">({s.value.total} listings)</span>}</h2>
      <form className="row" onSubmit={(e) => { e.preventDefault(); setAsked(q.trim()); }}>
        <label>Search <input value={q} onChange={(e) => setQ(e.target.value)} placeholder="chest pain pathway for women over 50" /></label>
        <button type="submit">Search</button>
        {asked && <button type="button" className="secondary" onClick={() => { setQ(''); setAsked(''); }}>Clear</button>}
      </form>
      {asked ? (<>
        <ErrorLine error={found.error} />
        {found.value && (found.value.results.length ? <ListingRows rows={found.value.results} score /> : <p>No listing matches “{asked}”.</p>)}
      </>) : (<>
        <label>Sort by <select value={sort} onChange={(e) => { setSort(e.target.value); setPage(0); }}>
          <option value="new">listing order</option><option value="rating">rating (best first)</option>
          <option value="price">price (cheapest first)</option><option value="calls">calls (most first)</option>
        </select></label>
        <ErrorLine error={s.error} />
        {s.value && (s.value.listings.length ? <ListingRows rows={s.value.listings} /> : <p>Nothing is listed yet (<code>leben store add</code>).</p>)}
        <nav className="pager" aria-label="Listing pages">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Prev page</button>
          <span data-testid="listing-page">page {page + 1}</span>
          <button type="button" disabled={!s.value || (page + 1) * size >= s.value.total} onClick={() => setPage(page + 1)}>Next page</button>
        </nav>
      </>)}
    </section>
  );
}

// The family tree: each node under its parent, leaves spread left to right.
function FamilyTree({ tree, current }) {
  const nodes = [], edges = [];
  let leaf = 0, depthMax = 0;
  const W = 170, H = 70;
  (function place(n, d) {
    depthMax = Math.max(depthMax, d);
    const kids = (n.children || []).map((c) => place(c, d + 1));
    const x = kids.length ? (kids[0].x + kids[kids.length - 1].x) / 2 : (leaf++) * W + W / 2;
    const me = { ...n, x, y: d * H + 25 };
    nodes.push(me);
    for (const k of kids) edges.push([me, k]);
    return me;
  }(tree, 0));
  const width = Math.max(leaf * W, W);
  return (
    <svg role="img" aria-label={`Family tree of ${nodes.length} listings`} data-testid="family-tree" viewBox={`0 0 ${width} ${(depthMax + 1) * H}`} width={width} height={(depthMax + 1) * H}>
      {edges.map(([a, b]) => (
        <g key={b.id}>
          <line x1={a.x} y1={a.y + 12} x2={b.x} y2={b.y - 12} stroke="currentColor" />
          <text x={(a.x + b.x) / 2 + 4} y={(a.y + b.y) / 2} fontSize="10">{b.relation}</text>
        </g>))}
      {nodes.map((n) => (
        <g key={n.id} data-testid={`family-${n.id.slice(0, 16)}`} data-current={n.id === current ? 'yes' : 'no'}>
          <rect x={n.x - W / 2 + 6} y={n.y - 12} width={W - 12} height={24} rx="4" fill={n.id === current ? '#dbeafe' : '#fff'} stroke="currentColor" />
          <text x={n.x} y={n.y + 4} fontSize="11" textAnchor="middle">{n.title.length > 24 ? n.title.slice(0, 23) + '…' : n.title} v{n.version}</text>
        </g>))}
    </svg>);
}

function Listing({ id }) {
  const [tick, setTick] = useState(0);
  const s = useAsync(() => Promise.all([api.listing(id), api.family(id)]), [id, tick]);
  const [me, setMe] = useState(null);
  const [stars, setStars] = useState('5');
  const [text, setText] = useState('');
  const [settle, setSettle] = useState(false);
  const [pending, setPending] = useState(null); // the licence or call a settlement payment is for
  const [lastCall, setLastCall] = useState('');
  const [outcome, setOutcome] = useState(OUTCOMES[0]);
  const lastType = useRef(0);
  const signer = useSigner(me, (res) => {
    if (lastType.current === TX_TYPES.storeCall && res.status === 'committed') setLastCall(res.id);
    setTick((t) => t + 1);
  }, { proof: false });
  // --settle: market.pay on the settlement chain first; once committed, the licence or call
  // cites it with its proof anchored in the business chain
  const payer = useSigner(me, async (res) => {
    if (res.status !== 'committed' || !pending) return;
    try {
      const pr = await api.proof(res.id, 'business');
      const p = pending;
      setPending(null);
      ask(p.type, () => p.make(fromHex(pr.tx), fromHex(pr.proof)), `${p.explain}, citing payment ${res.id.slice(0, 12)}…`);
    } catch (e) { signer.setErr(e); }
  }, { proof: false });
  if (s.loading && !s.value) return <p aria-live="polite">Loading the listing…</p>;
  if (s.error) return <><ErrorLine error={s.error} /><p><Link to="/store">All listings</Link></p></>;
  const [l, fam] = s.value;
  const item = fromHex(l.id);
  const o = l.outcomes || {};
  const ask = (type, payload, explain) => { lastType.current = type; return signer.review(type, payload, { chain: 'business', explain }); };
  // a licence or a call, paid from the store wallet or (settle) by a cited market.pay first
  const pay = (type, price, make, explain) => {
    if (!settle) return ask(type, () => make([], []), explain);
    setPending({ type, make, explain });
    return payer.review(TX_TYPES.marketPay, () => marketPayPayload(l.kind, price, addressDecode(l.author),
      (l.ancestors || []).map((a) => addressDecode(a.author))), { chain: 'settlement', explain: `ASC paid on the settlement chain for ${explain}` });
  };
  return (<>
    <section className="card" aria-labelledby="l-h">
      <h2 id="l-h" data-testid="listing-title">{l.title} <span className="muted">· <Link to="/store">all listings</Link></span></h2>
      <p>{l.description}</p>
      <dl className="fields">
        <dt>Listing</dt><dd><code>{l.id}</code></dd>
        <dt>Kind</dt><dd>{l.kind}{l.kind === 'contract' && <></>}</dd>
        <dt>Author</dt><dd><AccountLink address={l.author} /></dd>
        <dt>Specialty</dt><dd>{l.specialty}</dd>
        <dt>Codes</dt><dd>{(l.codes || []).join(', ') || '—'}</dd>
        <dt>Price per call</dt><dd data-testid="price-call"><Amount micro={l.price_call} unit="ASC" /></dd>
        <dt>Licence</dt><dd><Amount micro={l.price_licence} unit="ASC" /></dd>
        <dt>Calls · licences</dt><dd data-testid="usage">{l.calls} calls · {l.licences} licences</dd>
        <dt>Revenue</dt><dd><Amount micro={l.revenue} unit="ASC" /></dd>
        <dt>Rating</dt><dd data-testid="rating"><Stars r={l.rating || 0} n={l.ratings} /></dd>
        <dt>Listed</dt><dd><BlockLink chain="business" height={l.height} /></dd>
      </dl>
      <h3>Outcomes</h3>
      {o.recorded ? (
        <table data-testid="outcomes"><thead><tr><th scope="col">Outcome</th><th scope="col">Count</th></tr></thead>
          <tbody>{Object.entries(o.counts || {}).map(([k, v]) => <tr key={k}><td>{k}</td><td>{v}</td></tr>)}</tbody></table>
      ) : <p className="muted" data-testid="outcomes">Shown from {o.minimum ?? 10} recorded outcomes on (so few cannot be told apart from chance or traced to a patient).</p>}
      {(l.versions || []).length > 1 && <p>Versions: {l.versions.map((v) => <Link key={v.id} to={`/store/listing/${v.id}`}>v{v.version} </Link>)}</p>}
      <h3>Family</h3>
      <div className="scroll"><FamilyTree tree={fam.tree} current={l.id} /></div>
      <h3>Ratings</h3>
      {(l.rating_list || []).length ? <ul data-testid="ratings">{l.rating_list.map((r) => (
        <li key={r.by + r.height}>{'★'.repeat(r.stars)} “{r.text}” — <AccountLink address={r.by} /> at <BlockLink chain="business" height={r.height} /></li>))}</ul>
        : <p className="muted">No rating yet; a buyer or caller rates once.</p>}
    </section>
    {!me ? <KeyFileForm onOpen={setMe} title="Buy, call or rate" button="Open key" /> : (
      <section className="card" aria-labelledby="act-h">
        <h2 id="act-h">Buy, call or rate as <code>{me.address}</code></h2>
        <p className="muted">Paid from your store wallet (<code>leben store deposit</code>), or in ASC on the settlement chain by a
          payment the store tx then cites (as <code>leben store call --settle</code>); the price shown now is the most you pay.</p>
        <label className="row"><input type="checkbox" checked={settle} onChange={(e) => setSettle(e.target.checked)} /> Pay on the settlement chain (a cited payment)</label>
        <div className="row">
          <button type="button" disabled={!BigInt(l.price_licence || 0)} onClick={() => pay(TX_TYPES.storeBuy, BigInt(l.price_licence),
            (tx, pr) => storeBuyPayload(item, BigInt(l.price_licence), tx, pr), 'a licence for this listing')}>Buy a licence</button>
          <button type="button" disabled={!BigInt(l.price_call || 0) && !BigInt(l.price_licence || 0)} onClick={() => pay(TX_TYPES.storeCall, BigInt(l.price_call),
            (tx, pr) => storeCallPayload(item, BigInt(l.price_call), new Uint8Array(32), tx, pr), 'one paid call')}>Pay one call</button>
        </div>
        {payer.reviewing}
        <ErrorLine error={payer.err} />
        {payer.outcome}
        <form className="row" aria-label="What came of a call" onSubmit={(e) => { e.preventDefault();
          try { ask(TX_TYPES.storeOutcome, () => storeOutcomePayload(item, fromHex(lastCall.trim()), outcome), 'what came of your call'); } catch (ex) { signer.setErr(ex); } }}>
          <label>Call (tx id) <input value={lastCall} onChange={(e) => setLastCall(e.target.value)} placeholder="your store.call tx" /></label>
          <label>Outcome <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>{OUTCOMES.map((x) => <option key={x}>{x}</option>)}</select></label>
          <button type="submit" disabled={!/^[0-9a-f]{64}$/.test(lastCall.trim())}>Record the outcome</button>
        </form>
        <form className="row" onSubmit={(e) => { e.preventDefault(); ask(TX_TYPES.storeRate, () => storeRatePayload(item, Number(stars), text), 'your rating'); }}>
          <label>Stars <select value={stars} onChange={(e) => setStars(e.target.value)}>{[5, 4, 3, 2, 1].map((n) => <option key={n}>{n}</option>)}</select></label>
          <label>Rating text <input value={text} onChange={(e) => setText(e.target.value)} maxLength={500} /></label>
          <button type="submit">Rate</button>
        </form>
        {signer.reviewing}
        <ErrorLine error={signer.err} />
        {signer.outcome}
      </section>)}
  </>);
}

function List() {
  const [q, setQ] = useState('');
  const [page, setPage] = useState(0);
  const size = 20;
  const s = useAsync(() => api.contracts(page * size, size), [page]);
  const shown = (s.value?.contracts || []).filter((c) => !q || c.name.toLowerCase().includes(q.toLowerCase()));
  return (
    <section className="card" aria-labelledby="st-h">
      <h2 id="st-h">Published contracts {s.value && <span className="muted">({s.value.total})</span>}</h2>
      <p className="muted">Knowledge contracts on the business chain, each verified before it was accepted. Publish one from the
        designer or with <code>leben contract publish</code>.</p>
      <label>Filter by name <input value={q} onChange={(e) => setQ(e.target.value)} placeholder="sepsis" /></label>
      <ErrorLine error={s.error} />
      {s.value && (shown.length ? (
        <div className="scroll"><table>
          <thead><tr><th scope="col">Contract</th><th scope="col">Author</th><th scope="col">Version</th><th scope="col">Published</th><th scope="col">Sessions</th></tr></thead>
          <tbody>{shown.map((c) => (
            <tr key={c.hash} data-testid="contract-row">
              <td><Link to={`/store/${c.hash}`}>{c.name}</Link><br /><Hash value={c.hash} /></td>
              <td><AccountLink address={c.author} /></td>
              <td>{c.version}</td>
              <td><BlockLink chain="business" height={c.height} /><br /><small><Time ms={c.time_ms} /></small></td>
              <td>{c.sessions}</td>
            </tr>))}</tbody>
        </table></div>) : <p>No contract {q ? 'matches' : 'is published yet'}.</p>)}
      <nav className="pager" aria-label="Contract pages">
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous</button>
        <button type="button" disabled={!s.value || (page + 1) * size >= s.value.total} onClick={() => setPage(page + 1)}>Next</button>
      </nav>
    </section>
  );
}

// The author lists a published contract in the store (store.list, as `leben store add`):
// title, specialty, description, prices, codes, and the listing it derives from if any.
function ListForm({ c, onDone }) {
  const [me, setMe] = useState(publicView(currentKey()));
  const [f, setF] = useState({ title: '', specialty: '', description: '', call: '1', licence: '0', codes: '', parent: '', relation: 'extend' });
  const [err, setErr] = useState(null);
  const signer = useSigner(me, onDone, { proof: false });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  if (!me) return <KeyFileForm onOpen={setMe} title="List it in the store (the author's key)" button="Open key" />;
  function go(e) {
    e.preventDefault();
    setErr(null);
    try {
      const payload = storeListPayload(fromHex(c.hash), { title: f.title.trim(), specialty: f.specialty.trim(), description: f.description.trim(),
        price_call: parseAmount(f.call), price_licence: parseAmount(f.licence), codes: f.codes.split(',').map((x) => x.trim()).filter(Boolean),
        parent: f.parent.trim() ? fromHex(f.parent.trim()) : null, relation: f.relation });
      signer.review(TX_TYPES.storeList, () => payload, { chain: 'business', explain: 'you list this contract in the store' });
    } catch (ex) { setErr(ex); }
  }
  if (signer.reviewing) return signer.reviewing;
  return (
    <form className="card" onSubmit={go} aria-labelledby="list-h" data-testid="list-form">
      <h3 id="list-h">List it in the store as <code>{me.address}</code></h3>
      {me.address !== c.author && <p className="bad" role="alert">Only the author ({c.author}) may list it: the node refuses this key.</p>}
      <label>Title <input value={f.title} onChange={set('title')} maxLength={128} required /></label>
      <label>Specialty <input value={f.specialty} onChange={set('specialty')} maxLength={128} placeholder="cardiology" /></label>
      <label>Description <input value={f.description} onChange={set('description')} maxLength={1000} /></label>
      <label>Price per call (ASC) <input value={f.call} onChange={set('call')} inputMode="decimal" /></label>
      <label>Licence price (ASC) <input value={f.licence} onChange={set('licence')} inputMode="decimal" /></label>
      <label>Codes (comma-separated, such as icd10|I10) <input value={f.codes} onChange={set('codes')} /></label>
      <label>Derived from (a listing id, optional) <input value={f.parent} onChange={set('parent')} placeholder="64 hex digits" /></label>
      {f.parent.trim() && <label>Relation <select value={f.relation} onChange={set('relation')}>{RELATIONS.map((x) => <option key={x}>{x}</option>)}</select></label>}
      <button type="submit">Review the listing</button>
      <ErrorLine error={err || signer.err} />
      {signer.outcome}
    </form>);
}

function Contract({ hash }) {
  const [tick, setTick] = useState(0);
  const listed = useAsync(() => api.listing(hash).catch((e) => { if (e.status === 404) return null; throw e; }), [hash, tick]);
  const s = useAsync(() => api.contract(hash), [hash]);
  if (s.loading) return <p aria-live="polite">Loading the contract…</p>;
  if (s.error) return <><ErrorLine error={s.error} /><p><Link to="/store">All contracts</Link></p></>;
  const c = s.value;
  return (
    <section className="card" aria-labelledby="c-h">
      <h2 id="c-h" data-testid="contract-name">{c.name} <span className="muted">· <Link to="/store">all contracts</Link></span></h2>
      <dl className="fields">
        <dt>Contract</dt><dd><code>{c.hash}</code></dd>
        <dt>Author</dt><dd><AccountLink address={c.author} /></dd>
        <dt>Version</dt><dd>{c.version}</dd>
        <dt>Published</dt><dd><BlockLink chain="business" height={c.height} /> <Time ms={c.time_ms} /></dd>
        <dt>Verifier report</dt><dd><Hash value={c.report_hash} /> (no finding: the chain re-verified it)</dd>
        <dt>Sessions</dt><dd>{c.sessions}</dd>
      </dl>
      <p><Link to={`/designer?contract=${c.hash}`}>Open in the designer</Link>
        {listed.value && <> · <Link to={`/store/listing/${listed.value.id}`} data-testid="listed-link">its store listing</Link></>}</p>
      {listed.value === null && <ListForm c={c} onDone={() => setTick((t) => t + 1)} />}
      <h3>Source (.pf, {c.source_bytes} bytes)</h3>
      <pre className="wrap code" data-testid="contract-source">{c.source}</pre>
    </section>
  );
}

export default function Store({ path }) {
  const l = /^\/store\/listing\/([0-9a-f]{64})/.exec(path);
  if (l) return <Listing id={l[1]} />;
  const m = /^\/store\/([0-9a-f]{64})/.exec(path);
  return m ? <Contract hash={m[1]} /> : <><Listings /><List /></>;
}
