// Monitoring: node health (ordering, chain heights, mempool), block times and tx/s of each
// chain as live charts (polled every 2 s from the node's status and latest blocks).
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api.js';
import { CHAINS } from '../../lib/tx.js';
import { ErrorLine } from '../../lib/ui.jsx';

const Economy = lazy(() => import('./Economy.jsx'));

// A line chart in SVG with its unit and latest value; points: [{t (ms), v}].
function Chart({ title, unit, points, color = '#1f5fbf', testid }) {
  const W = 320, H = 120, P = 28;
  const vs = points.map((p) => p.v);
  const max = Math.max(1, ...vs);
  const t0 = points.length ? points[0].t : 0, t1 = points.length ? points[points.length - 1].t : 1;
  const x = (t) => P + ((t - t0) / Math.max(1, t1 - t0)) * (W - P - 4);
  const y = (v) => H - 16 - (v / max) * (H - 28);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const last = points.length ? points[points.length - 1].v : null;
  return (
    <figure className="chart">
      <figcaption>{title}: <strong data-testid={testid}>{last == null ? '—' : `${+last.toFixed(2)} ${unit}`}</strong></figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}, last ${last == null ? 'none' : last.toFixed(2)} ${unit}`}>
        <line x1={P} y1={H - 16} x2={W} y2={H - 16} stroke="#999" />
        <line x1={P} y1={8} x2={P} y2={H - 16} stroke="#999" />
        <text x={2} y={14} fontSize="10">{+max.toFixed(2)}</text>
        <text x={2} y={H - 18} fontSize="10">0</text>
        <text x={W - 60} y={H - 3} fontSize="10">{unit}</text>
        {d && <path d={d} fill="none" stroke={color} strokeWidth="2" />}
        {points.map((p, i) => <circle key={i} cx={x(p.t)} cy={y(p.v)} r="2.5" fill={color} />)}
      </svg>
    </figure>
  );
}

const Pair = ({ dt, dd }) => <><dt>{dt}</dt><dd>{dd}</dd></>;

export default function Monitor() {
  const [st, setSt] = useState(null);
  const [err, setErr] = useState(null);
  const [series, setSeries] = useState({});
  const prev = useRef(null);
  useEffect(() => {
    let live = true;
    async function tick() {
      try {
        const s = await api.status();
        const blocks = await Promise.all(CHAINS.map((c) => api.blocks(c, null, 20)));
        if (!live) return;
        setSt(s);
        setErr(null);
        const now = Date.now();
        setSeries((old) => {
          const n = { ...old };
          CHAINS.forEach((c, i) => {
            const bs = blocks[i].blocks;
            // block times: gaps between consecutive blocks (s), oldest first
            n[c + ':bt'] = bs.slice(0, -1).map((b, k) => ({ t: b.time_ms, v: (b.time_ms - bs[k + 1].time_ms) / 1000 })).reverse();
            // txs of the window's blocks after its oldest, over the time since that oldest block
            const txs = bs.slice(0, -1).reduce((a, b) => a + b.tx_count, 0);
            const span = bs.length > 1 ? (now - bs[bs.length - 1].time_ms) / 1000 : 0;
            const rate = span > 0 ? txs / span : 0;
            n[c + ':tps'] = [...(old[c + ':tps'] || []), { t: now, v: rate }].slice(-60);
            n[c + ':mp'] = [...(old[c + ':mp'] || []), { t: now, v: s.chains[c].pending }].slice(-60);
          });
          return n;
        });
        prev.current = s;
      } catch (e) { if (live) setErr(e); }
    }
    tick();
    const h = setInterval(tick, 2000);
    return () => { live = false; clearInterval(h); };
  }, []);
  return (
    <div>
      <section className="card" aria-labelledby="health-h">
        <h2 id="health-h">Node health</h2>
        <ErrorLine error={err} />
        {st && (
          <dl className="fields">
            <dt>Serving</dt><dd data-testid="serving">{st.serving === false ? 'NO' : 'yes'}</dd>
            <dt>Ordering</dt><dd>{st.ordering.backend}, {st.ordering.available ? 'available' : `unavailable${st.ordering.reason ? ': ' + st.ordering.reason : ''}`}</dd>
            <dt>Network</dt><dd><code>{st.network_id.slice(0, 16)}…</code></dd>
            {CHAINS.map((c) => <Pair key={c} dt={c} dd={<span data-testid={`height-${c}`}>height {st.chains[c].height}, {st.chains[c].pending} waiting</span>} />)}
            {st.consortium && <><dt>Consortium alarms</dt><dd>{(st.consortium.alarms || []).length || 'none'}</dd></>}
          </dl>)}
      </section>
      <div className="charts">
        {CHAINS.map((c) => (
          <section key={c} className="card" aria-label={`${c} charts`}>
            <h2>{c}</h2>
            <Chart title="Block time" unit="s" points={series[c + ':bt'] || []} testid={`bt-${c}`} />
            <Chart title="Throughput (last 20 blocks)" unit="tx/s" points={series[c + ':tps'] || []} color="#2a8a3a" testid={`tps-${c}`} />
            <Chart title="Mempool" unit="txs" points={series[c + ':mp'] || []} color="#b0541a" testid={`mp-${c}`} />
          </section>))}
      </div>
      <Suspense fallback={<p>Loading the economy…</p>}><Economy /></Suspense>
    </div>
  );
}
