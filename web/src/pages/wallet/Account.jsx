// An account's balances and its paginated history (each tx with its block and, on demand, its
// proof checked in the page): shown in the wallet and in the explorer's account page.
import { useEffect, useState } from 'react';
import { api } from '../../lib/api.js';
import { Amount, ErrorLine, Hash, TxLink, BlockLink, ProofPanel, AccountLink } from '../../lib/ui.jsx';

export function Balances({ address, refresh }) {
  const [acc, setAcc] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { api.account(address).then(setAcc, setErr); }, [address, refresh]);
  if (err) return <ErrorLine error={err} />;
  if (!acc) return <p>Loading balances…</p>;
  return (
    <section className="card" aria-labelledby="bal-h">
      <h2 id="bal-h">Balances</h2>
      <dl className="balances">
        <div><dt>ASC <span className="muted">settlement credit</span></dt><dd data-testid="balance-asc"><Amount micro={acc.balances.asc} unit="ASC" /></dd></div>
        <div><dt>CSC <span className="muted">computing credit</span></dt><dd data-testid="balance-csc"><Amount micro={acc.balances.csc} unit="CSC" /></dd></div>
      </dl>
      {acc.identity && <p>Identity: {acc.identity.name} ({acc.identity.role})</p>}
      <p className="muted">Next settlement nonce {acc.chains.settlement.next_nonce}{acc.credit_partner ? ' · credit partner' : ''}</p>
    </section>
  );
}

export function History({ address, refresh }) {
  const [page, setPage] = useState(0);
  const [data, setData] = useState(null);
  const [err, setErr] = useState(null);
  const [open, setOpen] = useState(null);
  const size = 10;
  useEffect(() => { api.accountTxs(address, page * size, size).then(setData, setErr); }, [address, page, refresh]);
  if (err) return <ErrorLine error={err} />;
  if (!data) return <p>Loading history…</p>;
  return (
    <section className="card" aria-labelledby="hist-h">
      <h2 id="hist-h">History <span className="muted">({data.total} txs)</span></h2>
      {data.total === 0 ? <p>No transactions yet.</p> : (
        <div className="scroll"><table>
          <thead><tr><th scope="col">Block</th><th scope="col">Type</th><th scope="col">Amount</th><th scope="col">Counterparty</th><th scope="col">Tx</th><th scope="col"><span className="sr-only">Details</span></th></tr></thead>
          <tbody>{data.txs.map((t) => {
            const p = t.payload || {};
            const amount = p.amount != null ? <Amount micro={p.amount} unit={p.asset || (t.type === 'issue' ? 'ASC' : 'CSC')} /> : '—';
            return [
              <tr key={t.id} data-testid="history-row">
                <td><BlockLink chain={t.chain} height={t.height} /></td>
                <td>{t.type} {t.direction === 'in' ? '↓ in' : '↑ out'}{t.status === 'invalid' ? ' (invalid)' : ''}</td>
                <td>{t.direction === 'out' && p.amount != null ? '−' : ''}{amount}</td>
                <td><AccountLink address={t.direction === 'in' ? t.sender : p.to} /></td>
                <td><TxLink id={t.id} /></td>
                <td><button type="button" className="link" aria-expanded={open === t.id}
                  onClick={() => setOpen(open === t.id ? null : t.id)}>{open === t.id ? 'Hide proof' : 'Proof'}</button></td>
              </tr>,
              open === t.id && <tr key={t.id + 'p'}><td colSpan={6}><ProofPanel id={t.id} chain={t.chain} /></td></tr>,
            ];
          })}</tbody>
        </table></div>)}
      <nav className="pager" aria-label="History pages">
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Newer</button>
        <span>page {page + 1} of {Math.max(1, Math.ceil(data.total / size))}</span>
        <button type="button" disabled={(page + 1) * size >= data.total} onClick={() => setPage(page + 1)}>Older</button>
      </nav>
    </section>
  );
}

