// Store (until the market's endpoints land: the published contracts): browse and search the
// knowledge contracts on the business chain, open one — its canonical source, author, version,
// verifier report hash and how often it was used — and open it in the designer.
import { useState } from 'react';
import { api } from '../../lib/api.js';
import { Link } from '../../lib/router.jsx';
import { useAsync, ErrorLine, Hash, AccountLink, Time, BlockLink } from '../../lib/ui.jsx';

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

function Contract({ hash }) {
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
      <p><Link to={`/designer?contract=${c.hash}`}>Open in the designer</Link></p>
      <h3>Source (.pf, {c.source_bytes} bytes)</h3>
      <pre className="wrap code" data-testid="contract-source">{c.source}</pre>
    </section>
  );
}

export default function Store({ path }) {
  const m = /^\/store\/([0-9a-f]{64})/.exec(path);
  return m ? <Contract hash={m[1]} /> : <List />;
}
