// Small shared pieces: hashes shortened with the full value in a title, amounts, times,
// a proof check panel, loading and error lines.
import { useEffect, useState } from 'react';
import { formatAmount } from './codec.js';
import { Link } from './router.jsx';
import { api } from './api.js';
import { ready } from './crypto.js';
import { fromHex } from './codec.js';
import { verifyProof } from './proof.js';
import { CHAINS } from './tx.js';

export const short = (h, n = 10) => (h && h.length > 2 * n ? `${h.slice(0, n)}…${h.slice(-4)}` : h);
export const Hash = ({ value, n }) => <code title={value}>{short(value, n)}</code>;
export const Amount = ({ micro, unit }) => <span className="amount">{formatAmount(BigInt(micro ?? 0))} {unit}</span>;
export const Time = ({ ms }) => <time dateTime={new Date(ms).toISOString()}>{new Date(ms).toLocaleString()}</time>;
export const ErrorLine = ({ error }) => error ? <p role="alert" className="error">{String(error.message || error)}</p> : null;

export function TxLink({ id }) { return <Link to={`/explorer/tx/${id}`}><Hash value={id} /></Link>; }
export function AccountLink({ address }) {
  return address ? <Link to={`/explorer/account/${address}`}><Hash value={address} n={8} /></Link> : '—';
}
export function BlockLink({ chain, height }) {
  return <Link to={`/explorer/block/${chain}/${height}`}>{chain} #{height}</Link>;
}

// Fetch a promise-returning function's value; deps re-run it.
export function useAsync(fn, deps) {
  const [s, setS] = useState({ loading: true, value: null, error: null });
  useEffect(() => {
    let live = true;
    setS((p) => ({ ...p, loading: true }));
    fn().then((value) => live && setS({ loading: false, value, error: null }),
      (error) => live && setS({ loading: false, value: null, error }));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return s;
}

// The tx's inclusion proof and its anchors in the two other chains, each checked here.
export function ProofPanel({ id, chain }) {
  const s = useAsync(async () => {
    await ready();
    const out = [];
    const own = await api.proof(id);
    out.push({ label: `in its ${chain} block`, res: verifyProof(fromHex(own.proof), id), bytes: own.bytes });
    for (const other of CHAINS.filter((c) => c !== chain)) {
      try {
        const p = await api.proof(id, other);
        out.push({ label: `anchored in ${other}`, res: verifyProof(fromHex(p.proof), id), bytes: p.bytes });
      } catch (e) {
        out.push({ label: `anchored in ${other}`, pending: e.status === 404 ? 'no ' + other + ' block anchors it yet' : e.message });
      }
    }
    return out;
  }, [id, chain]);
  if (s.loading) return <p aria-live="polite">Checking the inclusion proof…</p>;
  if (s.error) return <ErrorLine error={s.error} />;
  return (
    <section className="proofs" aria-label="Inclusion proof">
      <h3>Inclusion proof (checked in this browser)</h3>
      {s.value.map((p) => (
        <div key={p.label} className="proof">
          {p.pending ? <p><strong>{p.label}:</strong> <span className="muted">{p.pending}</span></p> : (
            <>
              <p><strong>{p.label}:</strong>{' '}
                <span className={p.res.ok ? 'ok' : 'bad'} data-testid="proof-verdict">{p.res.ok ? '✓ proof valid' : '✗ proof INVALID'}</span>
                {p.res.anchor && <> — <BlockLink chain={p.res.anchor.chain} height={p.res.anchor.height} /></>}
                <span className="muted"> ({p.bytes} bytes)</span></p>
              <ul className="steps">{p.res.steps.map((st, i) => <li key={i}>{st.ok ? '✓' : '✗'} {st.what}</li>)}</ul>
            </>)}
        </div>
      ))}
    </section>
  );
}
