// Explorer: the three chains side by side (block pages, newest first), a block with its
// anchors and txs, a tx decoded from its signed bytes in this browser with its proof checked,
// and the consortium's members and checkpoints.
import { useState } from 'react';
import { api } from '../../lib/api.js';
import { ready } from '../../lib/crypto.js';
import { fromHex, toHex, equalBytes } from '../../lib/codec.js';
import { decodeTx, txId, txSignatureIsValid, CHAINS } from '../../lib/tx.js';
import { Link, navigate } from '../../lib/router.jsx';
import { addressDecode } from '../../lib/address.js';
import { Balances, History } from '../wallet/Account.jsx';
import { useAsync, ErrorLine, Hash, TxLink, BlockLink, ProofPanel, Time, Amount, AccountLink } from '../../lib/ui.jsx';

function ChainColumn({ chain }) {
  const [before, setBefore] = useState([null]); // stack of page starts
  const s = useAsync(() => api.blocks(chain, before[before.length - 1], 10), [chain, before]);
  return (
    <section className="card chain" aria-labelledby={`ch-${chain}`}>
      <h2 id={`ch-${chain}`}>{chain} {s.value && <span className="muted">height {s.value.height}</span>}</h2>
      <ErrorLine error={s.error} />
      {s.value && (
        <ol className="blocks">
          {s.value.blocks.map((b) => (
            <li key={b.height} data-testid={`block-${chain}`}>
              <BlockLink chain={chain} height={b.height} />{' '}
              <span className="muted">{b.tx_count} tx{b.tx_count === 1 ? '' : 's'}{b.types.length ? ': ' + [...new Set(b.types)].join(', ') : ''}</span>
              <br /><small><Time ms={b.time_ms} /></small>
            </li>))}
        </ol>)}
      <nav className="pager" aria-label={`${chain} pages`}>
        <button type="button" disabled={before.length < 2} onClick={() => setBefore(before.slice(0, -1))}>Newer</button>
        <button type="button" disabled={!s.value || s.value.next_before == null}
          onClick={() => setBefore([...before, s.value.next_before])}>Older</button>
      </nav>
    </section>
  );
}

function Overview() {
  return (
    <>
      <div className="chains">{CHAINS.map((c) => <ChainColumn key={c} chain={c} />)}</div>
      <Members />
    </>
  );
}

function Members() {
  const m = useAsync(() => api.members(), []);
  const st = useAsync(() => api.status(), []);
  const cons = st.value && st.value.consortium;
  return (
    <section className="card" aria-labelledby="mem-h">
      <h2 id="mem-h">Consortium</h2>
      <p>Ordering: {st.value ? `${st.value.ordering.backend}${st.value.ordering.available ? '' : ' (unavailable)'}` : '…'}</p>
      <ErrorLine error={m.error} />
      {m.value && (m.value.count ? (
        <div className="scroll"><table>
          <caption>{m.value.count} members, {m.value.threshold} needed for a decision</caption>
          <thead><tr><th scope="col">Member</th><th scope="col">Address</th><th scope="col">Kinds</th><th scope="col">Since</th></tr></thead>
          <tbody>{m.value.members.map((x) => <tr key={x.address}><td>{x.name}</td><td><Hash value={x.address} n={8} /></td><td>{x.kinds}</td><td>business #{x.since}</td></tr>)}</tbody>
        </table></div>) : <p>This node runs alone: no consortium members.</p>)}
      {m.value && m.value.proposals && m.value.proposals.length > 0 && (
        <p>{m.value.proposals.length} open proposal(s).</p>)}
      {cons ? (
        <div>
          <h3>Checkpoints</h3>
          <dl className="fields" data-testid="checkpoints">
            <dt>This node</dt><dd>{cons.member ? `member ${cons.member_name}` : 'not a member'} <Hash value={cons.node_address} n={8} /></dd>
            <dt>Interval</dt><dd>every {cons.checkpoint_interval} blocks</dd>
            <dt>Published</dt><dd>{cons.published}; checked from others: {cons.checked}; waiting: {cons.waiting}</dd>
            <dt>Last published</dt><dd>{Object.entries(cons.last_published || {}).map(([c, h]) => `${c} ${h}`).join(', ')}</dd>
            <dt>Divergence alarms</dt><dd className={cons.alarm_count ? 'bad' : ''}>{cons.alarm_count ? `${cons.alarm_count}` : 'none'}</dd>
          </dl>
          {(cons.alarms || []).length > 0 && <ul>{cons.alarms.map((a, i) => <li key={i} className="bad">{typeof a === 'string' ? a : JSON.stringify(a)}</li>)}</ul>}
        </div>) : <p className="muted">No checkpoints: checkpoints are published in consortium mode.</p>}
    </section>
  );
}

const TXS_PER_PAGE = 50;

function BlockView({ chain, height }) {
  const s = useAsync(() => api.block(chain, height), [chain, height]);
  const [page, setPage] = useState(0);
  if (s.loading) return <p>Loading block…</p>;
  if (s.error) return <ErrorLine error={s.error} />;
  const b = s.value;
  const h = Number(b.height);
  return (
    <section className="card" aria-labelledby="blk-h">
      <h2 id="blk-h">{chain} block {b.height}</h2>
      <nav className="row" aria-label="Neighbour blocks">
        {h > 0 && <Link to={`/explorer/block/${chain}/${h - 1}`}>← block {h - 1}</Link>}
        <Link to={`/explorer/block/${chain}/${h + 1}`}>block {h + 1} →</Link>
      </nav>
      <dl className="fields">
        <dt>Hash</dt><dd><Hash value={b.hash} n={16} /></dd>
        <dt>Time</dt><dd><Time ms={b.time_ms} /></dd>
        <dt>Previous</dt><dd><Hash value={b.prev_hash} n={16} /></dd>
        <dt>Tx root</dt><dd><Hash value={b.tx_root} n={16} /></dd>
        <dt>App hash</dt><dd><Hash value={b.app_hash} n={16} /></dd>
        <dt>Proposer</dt><dd><Hash value={b.proposer} n={16} /></dd>
        {Object.entries(b.anchors || {}).map(([c, a]) => (
          <FragmentPair key={c} dt={`Anchor ${c}`} dd={<><BlockLink chain={c} height={a.height} /> <Hash value={a.hash} /></>} />))}
      </dl>
      <h3>{b.tx_count} transaction{b.tx_count === 1 ? '' : 's'}</h3>
      <div className="scroll"><table>
        <thead><tr><th scope="col">#</th><th scope="col">Tx</th><th scope="col">Type</th><th scope="col">Sender</th><th scope="col">Valid</th></tr></thead>
        <tbody>{b.txs.slice(page * TXS_PER_PAGE, (page + 1) * TXS_PER_PAGE).map((t, k) => (
          <tr key={t.id}><td>{page * TXS_PER_PAGE + k}</td><td><TxLink id={t.id} /></td><td>{t.type}</td><td><AccountLink address={t.sender} /></td><td>{t.valid ? 'yes' : 'no'}</td></tr>))}</tbody>
      </table></div>
      {b.txs.length > TXS_PER_PAGE && (
        <nav className="pager" aria-label="Transactions of the block">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous</button>
          <span>txs {page * TXS_PER_PAGE}–{Math.min(b.txs.length, (page + 1) * TXS_PER_PAGE) - 1} of {b.txs.length}</span>
          <button type="button" disabled={(page + 1) * TXS_PER_PAGE >= b.txs.length} onClick={() => setPage(page + 1)}>Next</button>
        </nav>)}
    </section>
  );
}

const FragmentPair = ({ dt, dd }) => <><dt>{dt}</dt><dd>{dd}</dd></>;

function fmt(v) {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return toHex(v);
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function TxView({ id }) {
  const s = useAsync(async () => {
    await ready();
    const [t, st] = await Promise.all([api.tx(id), api.status()]);
    let local = null;
    if (t.status !== 'pending') {
      const p = await api.proof(id);
      const raw = fromHex(p.tx);
      const dec = decodeTx(raw);
      local = { dec, idOk: equalBytes(txId(raw), fromHex(id)), sigOk: txSignatureIsValid(dec, fromHex(st.network_id)) };
    }
    return { t, local };
  }, [id]);
  if (s.loading) return <p>Loading tx…</p>;
  if (s.error) return <ErrorLine error={s.error} />;
  const { t, local } = s.value;
  const p = t.payload || {};
  return (
    <section className="card" aria-labelledby="tx-h">
      <h2 id="tx-h">Transaction <Hash value={id} n={12} /></h2>
      <dl className="fields">
        <dt>Status</dt><dd data-testid="tx-status">{t.status}{t.error ? `: ${t.error}` : ''}</dd>
        {t.height != null && <><dt>Block</dt><dd><BlockLink chain={t.chain} height={t.height} /> (position {t.index})</dd></>}
        <dt>Type</dt><dd>{t.type} <span className="muted">on {t.chain}</span></dd>
        <dt>Sender</dt><dd><Link to={`/explorer/account/${t.sender}`}><code>{t.sender}</code></Link></dd>
        <dt>Nonce</dt><dd>{t.nonce}</dd>
        <dt>Fee</dt><dd><Amount micro={t.fee} unit="CSC" /></dd>
      </dl>
      <h3>Payload</h3>
      <dl className="fields" data-testid="payload">
        {Object.entries(p).map(([k, v]) => <FragmentPair key={k} dt={k} dd={k === 'amount' && typeof v === 'number'
          ? <Amount micro={v} unit={p.asset || ''} /> : <code className="wrap">{fmt(v)}</code>} />)}
      </dl>
      {local && (
        <>
          <h3>Decoded in this browser from the signed bytes</h3>
          <ul className="steps">
            <li>{local.idOk ? '✓' : '✗'} the bytes hash to this tx id</li>
            <li data-testid="sig-check">{local.sigOk ? '✓' : '✗'} the sender's signature is valid for this network</li>
            <li>{local.dec.typeName} from <code>{local.dec.senderAddress}</code>, nonce {String(local.dec.nonce)}</li>
            {local.dec.fields && Object.entries(local.dec.fields).map(([k, v]) => <li key={k}>{k}: {k === 'amount'
              ? <Amount micro={v} unit={local.dec.fields.asset || ''} /> : <code>{fmt(v)}</code>}</li>)}
            {!local.dec.fields && <li>payload: {local.dec.payload.length} bytes{local.dec.payloadError ? ` (${local.dec.payloadError})` : ''}</li>}
          </ul>
          <ProofPanel id={id} chain={t.chain} />
        </>)}
    </section>
  );
}

export default function Explorer({ path }) {
  const parts = path.split('/').filter(Boolean); // explorer, kind, ...
  let body = <Overview />;
  if (parts[1] === 'block' && parts.length === 4) body = <BlockView chain={parts[2]} height={parts[3]} />;
  else if (parts[1] === 'tx' && parts.length === 3) body = <TxView id={parts[2]} />;
  else if (parts[1] === 'account' && parts.length === 3) body = <AccountView address={parts[2]} />;
  return (
    <div>
      {parts.length > 1 && <p><Link to="/explorer">← all chains</Link></p>}
      <SearchBox />
      {body}
    </div>
  );
}

// Any account, read-only: its balances and history, as in the wallet.
function AccountView({ address }) {
  return (
    <div>
      <section className="card"><h2>Account</h2><p><code data-testid="account-address">{address}</code></p></section>
      <Balances address={address} refresh={0} />
      <History address={address} refresh={0} />
    </div>
  );
}

function SearchBox() {
  const [q, setQ] = useState('');
  const [err, setErr] = useState(null);
  const go = (e) => {
    e.preventDefault();
    setErr(null);
    const v = q.trim();
    if (/^[0-9a-f]{64}$/i.test(v)) navigate(`/explorer/tx/${v.toLowerCase()}`);
    else if (/^lb1/i.test(v)) {
      try { addressDecode(v); navigate(`/explorer/account/${v.toLowerCase()}`); } catch (ex) { setErr(ex); }
    } else setErr(new Error('enter a tx id (64 hex digits) or an account address (lb1…)'));
  };
  return (
    <form className="search" onSubmit={go} role="search">
      <label htmlFor="q" className="sr-only">Tx id or account address</label>
      <input id="q" value={q} onChange={(e) => setQ(e.target.value)} placeholder="tx id (64 hex digits) or address (lb1…)" spellCheck="false" />
      <button type="submit">Find</button>
      <ErrorLine error={err} />
    </form>
  );
}
