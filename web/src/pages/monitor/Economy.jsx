// The market's economy (GET /v1/market, /v1/market/rankings/{period}): the pools (ASC locked,
// CSC pending, per period, available), the CSC each ranked pool allotted in the last closed
// periods, and the latest period's top-k scores per pool, as SVG bar charts.
import { api } from '../../lib/api.js';
import { useAsync, ErrorLine, AccountLink, short } from '../../lib/ui.jsx';
import { BarChart } from '../../lib/charts.jsx';

const RANKED = ['developers', 'data', 'audit'];
const csc = (m) => Number(m) / 1e6;

export default function Economy() {
  const s = useAsync(async () => {
    const m = await api.market();
    if (!m) return null;
    const last = m.next_period - 1, periods = [];
    for (let p = last; p >= 0 && p > last - 8; p--) periods.unshift(await api.rankings(p));
    return { m, periods };
  }, []);
  if (s.loading) return <p aria-live="polite">Loading the market…</p>;
  if (s.error) return <ErrorLine error={s.error} />;
  if (!s.value) return <section className="card"><h2>Economy</h2><p data-testid="market-off">This network has no market layer (genesis without a <code>market</code> section).</p></section>;
  const { m, periods } = s.value;
  const latest = periods[periods.length - 1];
  const pools = Object.entries(m.pools || {});
  return (
    <section className="card" aria-labelledby="eco-h" data-testid="economy">
      <h2 id="eco-h">Economy</h2>
      <p>Periods of {m.period_blocks} settlement blocks; <span data-testid="closed-periods">{m.next_period} closed</span>; the top {m.top_k} of each ranked pool are paid.
        Platform pool <AccountLink address={m.platform} />.</p>
      <div className="charts">
        <BarChart title="Pools: CSC available now (green) and pending" testid="pools-chart" unit=" CSC"
          bars={pools.flatMap(([k, p]) => [{ label: k, value: csc(p.csc_available), accent: true }, { label: `${k} pending`, value: csc(p.csc_pending) }])} />
        <BarChart title="ASC locked per pool" testid="locked-chart" unit=" ASC" bars={pools.map(([k, p]) => ({ label: k, value: csc(p.asc_locked) }))} />
        {RANKED.map((k) => (
          <BarChart key={k} title={`${k}: CSC allotted per closed period`} testid={`allotted-${k}`} unit=" CSC"
            bars={periods.map((r) => ({ label: `#${r.period}`, value: csc(r[k]?.allotted_csc ?? 0) }))} />))}
        {latest && RANKED.map((k) => (
          <BarChart key={`r-${k}`} title={`${k}: ranking of period ${latest.period} (score)`} testid={`ranking-${k}`}
            bars={(latest[k]?.top || []).map((t) => ({ label: `${t.rank}. ${short(t.node, 4)}`, value: Number(t.score), note: `${csc(t.paid_csc)} CSC` }))} />))}
      </div>
      <dl className="fields">
        <dt>ASC supply</dt><dd>{csc(m.totals.asc_supply).toLocaleString()}</dd>
        <dt>CSC supply · minted · burned</dt><dd data-testid="csc-totals">{csc(m.totals.csc_supply).toLocaleString()} · {csc(m.totals.csc_minted).toLocaleString()} · {csc(m.totals.csc_burned).toLocaleString()}</dd>
      </dl>
    </section>);
}
