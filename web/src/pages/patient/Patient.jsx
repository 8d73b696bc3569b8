// Patient portal: open the consent key (key file) and the opening cards the data owner gave;
// for each asset see the consent, give or revoke it (signed here after the decoded tx is
// shown), every use of the records (who, for what, when, paid what: the business chain's log
// of the patient's commitment and the settlement chain's escrows), and the credits the
// patient's account has received.
import { useState } from 'react';
import { api } from '../../lib/api.js';
import { ready, hash } from '../../lib/crypto.js';
import { fromHex, toHex, equalBytes } from '../../lib/codec.js';
import { TX_TYPES, consentPayload, purgeAskPayload } from '../../lib/tx.js';
import { addressDecode } from '../../lib/address.js';
import { KeyFileForm, useSigner, currentKey, publicView, closeKey } from '../../lib/signer.jsx';
import { useAsync, ErrorLine, Hash, TxLink, BlockLink, Time, AccountLink, Amount } from '../../lib/ui.jsx';
import { BarChart } from '../../lib/charts.jsx';
import { Balances, History } from '../wallet/Account.jsx';

const te = new TextEncoder();

// An opening card (`leben exchange opening`): checked here — its commitment must open with
// its salt and local id (lb_xchg_patient_open), so a card for someone else is refused.
export function parseCard(text) {
  let c;
  try { c = JSON.parse(text); } catch { throw new Error('this file is not an opening card (not JSON)'); }
  if (!c || c.card !== 'LEBEN patient opening card v1' || !/^[0-9a-f]{64}$/.test(c.asset) ||
      !/^[0-9a-f]{64}$/.test(c.patient) || !/^[0-9a-f]{64}$/.test(c.salt) || typeof c.local_id !== 'string')
    throw new Error('this file is not an opening card (LEBEN patient opening card v1 with asset, patient, salt and local_id)');
  const commit = hash('LEBEN-patient-v2', fromHex(c.asset), fromHex(c.salt), te.encode(c.local_id));
  if (!equalBytes(commit, fromHex(c.patient)))
    throw new Error(`the card's commitment does not open with its salt and local id ${c.local_id}: it was altered`);
  return c;
}

function AddCard({ onAdd }) {
  const [err, setErr] = useState(null);
  async function add(e) {
    setErr(null);
    try {
      await ready();
      for (const f of e.target.files) onAdd(parseCard(await f.text()));
    } catch (ex) { setErr(ex); }
    e.target.value = '';
  }
  return (
    <div>
      <label>Opening card <input type="file" accept=".json,application/json" multiple onChange={add} /></label>
      <p className="muted small">The card the data owner gave you (<code>leben exchange opening</code>). It stays in this
        browser; only the commitment it opens is public.</p>
      <ErrorLine error={err} />
    </div>
  );
}

function Consent({ card, me }) {
  const [refresh, setRefresh] = useState(0);
  const st = useAsync(() => api.consent(card.asset, card.patient), [card.patient, refresh]);
  const s = useSigner(me, () => setRefresh((x) => x + 1), { proof: false });
  const mine = st.value && st.value.key === me.address;
  const [newKey, setNewKey] = useState('');
  const act = (action) => s.review(TX_TYPES.xchgConsent, () => consentPayload(fromHex(card.asset), fromHex(card.patient), action,
    action === 3 ? addressDecode(newKey) : null),
  { chain: 'business', explain: ['', 'you give your consent for this asset', 'you revoke your consent for this asset',
    'your consent for this asset moves to another key: only that key gives or revokes it from now on'][action] });
  return (
    <section className="card" aria-label={`Consent for asset ${card.asset.slice(0, 10)}`} data-testid="consent">
      <h3>Asset <Hash value={card.asset} n={10} /> <span className="muted">as patient {card.local_id}</span></h3>
      <ErrorLine error={st.error} />
      {st.value && (
        <>
          <p>Consent: <strong data-testid="consent-status">{st.value.status}</strong>
            <span className="muted"> (business block {st.value.height}); consent key <AccountLink address={st.value.key} /></span></p>
          {!mine && <p className="error">This card's consent key is not the key you opened: open {st.value.key}'s key file to act on it.</p>}
          {mine && !s.reviewing && (
            <div className="row">
              <button type="button" disabled={st.value.status === 'given'} onClick={() => act(1)}>Give consent</button>
              <button type="button" className="secondary" disabled={st.value.status === 'revoked'} onClick={() => act(2)}>Revoke consent</button>
            </div>)}
          {mine && !s.reviewing && (
            <form className="row" aria-label="Move the consent to another key" onSubmit={(e) => { e.preventDefault(); act(3); }}>
              <label>New consent key (address) <input value={newKey} onChange={(e) => setNewKey(e.target.value.trim())} placeholder="lb1…" /></label>
              <button type="submit" className="secondary" disabled={!newKey}>Move my consent to this key</button>
            </form>)}
          {s.reviewing || <ErrorLine error={s.err} />}
          {s.outcome}
        </>)}
      <Purges card={card} me={me} mine={mine} />
      <Uses card={card} refresh={refresh} />
    </section>
  );
}

// Purges of the records: the owner's purges of the whole asset and those naming this patient,
// each holder's answer (late past the deadline), and the patient's own asks; a new ask is
// signed here with the consent key (data.purge.ask).
function Purges({ card, me, mine }) {
  const [tick, setTick] = useState(0);
  const [reason, setReason] = useState('');
  const st = useAsync(() => Promise.all([api.patientPurges(card.patient), api.assetPurges(card.asset)]), [card.patient, tick]);
  const s = useSigner(me, () => setTick((x) => x + 1), { proof: false });
  const [mineP, whole] = st.value || [null, null];
  const reqs = [...(mineP?.purges || []), ...((whole?.requests || []).filter((r) => r.scope === 'asset'))];
  const asks = mineP?.asks || [];
  return (
    <div data-testid="purges">
      <h4>Purges of my records</h4>
      <ErrorLine error={st.error} />
      {st.value && (whole?.purged
        ? <p data-testid="purge-state"><strong>Purged</strong> on <Time ms={whole.purged_at} />: the asset's data no longer exists anywhere in the consortium.</p>
        : <p data-testid="purge-state">{reqs.length ? `${reqs.length} purge(s) asked` : 'No purge asked.'}</p>)}
      {reqs.map((r) => (
        <div key={r.request} className="scroll" data-testid="purge-request">
          <p>{r.scope === 'asset' ? 'The whole asset' : 'My records'}, at the {r.by}'s request{r.reason ? ` (“${r.reason}”)` : ''}, <BlockLink chain="directory" height={r.height} />;
            deadline directory block {r.deadline_height}; {r.answered} of {r.holders.length} holders answered{r.complete ? ' — complete' : ''}.</p>
          <table><thead><tr><th scope="col">Holder</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Objects destroyed</th></tr></thead>
            <tbody>{r.holders.map((h) => (
              <tr key={h.holder + h.role} data-testid="purge-holder" data-status={h.status}>
                <td><AccountLink address={h.holder} /></td><td>{h.role}</td>
                <td className={h.status === 'late' ? 'bad' : ''}>{h.status}{h.time_ms ? <> <small><Time ms={h.time_ms} /></small></> : ''}</td>
                <td>{h.objects ?? '—'}</td>
              </tr>))}</tbody></table>
        </div>))}
      {asks.length > 0 && <ul>{asks.map((a) => <li key={a.height + a.reason} data-testid="purge-ask" data-status={a.status}>
        I asked at business block {a.height}{a.reason ? ` (“${a.reason}”)` : ''}: <strong>{a.status}</strong></li>)}</ul>}
      {mine && !whole?.purged && !s.reviewing && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); s.review(TX_TYPES.purgeAsk, () => purgeAskPayload(fromHex(card.asset), fromHex(card.patient), reason),
          { chain: 'business', explain: 'you ask the data owner to purge your records from this asset' }); }}>
          <label>Reason for the purge <input value={reason} maxLength={256} onChange={(e) => setReason(e.target.value)} /></label>
          <button type="submit">Ask for a purge</button>
        </form>)}
      {s.reviewing || <ErrorLine error={s.err} />}
      {s.outcome}
    </div>);
}

const WHAT = { 'xchg.patients': 'registered as a patient of the asset', 'xchg.consent': 'consent', 'xchg.exec': 'records used in a run',
  'xchg.view': 'private part viewed', 'xchg.result': 'result' };

// Every use of the records: the log of the patient's commitment, with the request's purpose,
// the user, the block's time and the payment of each run.
function Uses({ card, refresh }) {
  const s = useAsync(async () => {
    const log = await api.xlog(card.patient);
    const times = {};
    for (const h of [...new Set(log.events.map((e) => e.height))]) {
      try { times[h] = (await api.blocks('business', h + 1, 1)).blocks[0].time_ms; } catch { /* shown without */ }
    }
    const purposes = {};
    for (const e of log.events.filter((x) => x.type === 'xchg.exec')) {
      try { purposes[e.details.request] = (await api.tx(e.details.request)).payload; } catch { /* shown without */ }
    }
    return { log, times, purposes };
  }, [card.patient, refresh]);
  if (s.loading) return <p aria-live="polite">Loading the uses of your records…</p>;
  if (s.error) return <ErrorLine error={s.error} />;
  const { log, times, purposes } = s.value;
  return (
    <>
      <h4>Every use of my records <span className="muted">({log.count} events; runs paid {(log.paid.asc / 1e6).toLocaleString()} ASC to the data's owner)</span></h4>
      <div className="scroll"><table>
        <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">What for</th><th scope="col">Paid</th><th scope="col">Tx</th></tr></thead>
        <tbody>{log.events.map((e) => {
          const req = e.type === 'xchg.exec' ? purposes[e.details.request] : null;
          return (
            <tr key={e.tx} data-testid="use">
              <td><BlockLink chain="business" height={e.height} />{times[e.height] && <><br /><small><Time ms={times[e.height]} /></small></>}</td>
              <td>{e.type === 'xchg.consent' ? `consent ${e.details.action === 'give' ? 'given' : e.details.action === 'revoke' ? 'revoked' : e.details.action}` : WHAT[e.type] || e.what}
                {e.type === 'xchg.exec' && <><br /><small className="muted">{e.details.scenario} run, {e.details.patients.length} patients</small></>}</td>
              <td>{e.type === 'xchg.exec' ? <>user <AccountLink address={e.details.terms.user} /><br /><small>run by <AccountLink address={e.by} /></small></> : <AccountLink address={e.by} />}</td>
              <td data-testid="use-purpose">{req ? <>{req.purpose}<br /><small className="muted">{typeof req.params === 'string' ? req.params : JSON.stringify(req.params)}</small></> : '—'}</td>
              <td>{e.payment ? <><Amount micro={e.payment.data_fee} unit="ASC" /> data, <Amount micro={e.payment.compute_fee} unit="CSC" /> compute<br /><small>escrow {e.payment.escrow}</small></> : '—'}</td>
              <td><TxLink id={e.tx} /></td>
            </tr>);
        })}</tbody>
      </table></div>
    </>
  );
}

// What the chain holds today for the patient's account: balances and the credits received.
function Rewards({ me }) {
  const s = useAsync(() => api.accountTxs(me.address, 0, 100), [me.address]);
  const incoming = (s.value?.txs || []).filter((t) => t.direction === 'in' && t.payload?.amount != null).reverse();
  // the data owners' payments from their patient pools (market.pool.pay): my entry of each
  const pool = (s.value?.txs || []).filter((t) => t.direction === 'in' && t.type === 'market.pool.pay')
    .map((t) => ({ t, amount: (t.payload.payments || []).filter((p) => p.to === me.address).reduce((a, p) => a + BigInt(p.amount), 0n) }));
  return (
    <section className="card" aria-labelledby="rw-h">
      <h2 id="rw-h">My rewards</h2>
      <p className="muted">Credits your account has received (the last 100 txs): transfers, and each data owner's payments
        from its patient pool, which holds the patients' share of every run on its data (docs/economy.md §3).</p>
      <ErrorLine error={s.error} />
      <BarChart title="Credits received, by tx (oldest first)" testid="rewards-chart" unit=""
        bars={incoming.slice(-12).map((t) => ({ label: `#${t.height}`, value: Number(t.payload.amount) / 1e6, note: t.payload.asset || 'ASC' }))} />
      <h3>From the market: my share of the uses of my records</h3>
      {pool.length ? (
        <table data-testid="pool-payments"><thead><tr><th scope="col">Paid by</th><th scope="col">To me</th><th scope="col">In that payment</th><th scope="col">Tx</th></tr></thead>
          <tbody>{pool.map(({ t, amount }) => (
            <tr key={t.id} data-testid="pool-payment"><td><AccountLink address={t.sender} /> (its patient pool)</td>
              <td data-testid="pool-amount"><Amount micro={amount} unit={t.payload.asset} /></td>
              <td>{t.payload.payments.length} patients, <Amount micro={t.payload.total} unit={t.payload.asset} /></td><td><TxLink id={t.id} /></td></tr>))}</tbody></table>
      ) : <p className="muted" data-testid="pool-payments">No payment from a data owner's patient pool yet (<code>leben market pool-pay</code>).</p>}
      <Balances address={me.address} />
      <History address={me.address} />
    </section>
  );
}

export default function Patient() {
  const [me, setMe] = useState(publicView(currentKey()));
  const [cards, setCards] = useState([]);
  if (!me) return (
    <KeyFileForm onOpen={setMe} title="Patient portal: open your consent key" button="Open key file">
      <p className="muted">The key whose address the data owner registered for your consent. It is decrypted in this
        browser; the passphrase and the private key are never sent anywhere.</p>
    </KeyFileForm>);
  return (
    <div className="patient">
      <section className="card who" aria-label="Open key">
        <p>Consent key <strong>{me.name}</strong> <code data-testid="my-address">{me.address}</code></p>
        <button type="button" className="secondary" onClick={() => { closeKey(); setMe(null); setCards([]); }}>Close key</button>
      </section>
      <section className="card" aria-labelledby="cons-h">
        <h2 id="cons-h">My consents</h2>
        <AddCard onAdd={(c) => setCards((cs) => cs.some((x) => x.patient === c.patient) ? cs : [...cs, c])} />
        {cards.length === 0 && <p>No opening card opened yet.</p>}
        {cards.map((c) => <Consent key={c.patient} card={c} me={me} />)}
      </section>
      <Rewards me={me} />
    </div>
  );
}
