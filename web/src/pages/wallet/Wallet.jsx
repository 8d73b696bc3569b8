// Wallet: open a key file (decrypted here, never sent), see ASC/CSC balances and history,
// transfer. Before signing, the page decodes the exact bytes it will sign and shows them.
import { useState } from 'react';
import { parseAmount } from '../../lib/codec.js';
import { addressDecode } from '../../lib/address.js';
import { transferPayload, convertPayload, TX_TYPES } from '../../lib/tx.js';
import { ErrorLine } from '../../lib/ui.jsx';
import { KeyFileForm, useSigner, currentKey, publicView, closeKey } from '../../lib/signer.jsx';
import { Balances, History } from './Account.jsx';

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
  const [me, setMe] = useState(publicView(currentKey()));
  const [refresh, setRefresh] = useState(0);
  function close() {
    closeKey();
    setMe(null);
  }
  if (!me) return <KeyFileForm onOpen={setMe} />;
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
