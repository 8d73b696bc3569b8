// Small SVG charts (no chart library): bars with their values written on them.
export function BarChart({ title, bars, max, testid, unit = '' }) {
  const W = 360, H = 150, P = 30, B = 22;
  const top = max ?? Math.max(1, ...bars.map((b) => b.value));
  const bw = bars.length ? Math.min(48, (W - P - 8) / bars.length - 8) : 0;
  const y = (v) => H - B - (v / top) * (H - B - 12);
  return (
    <figure className="chart bars" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img"
        aria-label={`${title}: ${bars.map((b) => `${b.label} ${+b.value.toFixed(2)}${unit}`).join(', ') || 'no values'}`}>
        <line x1={P} y1={H - B} x2={W} y2={H - B} stroke="#999" />
        <line x1={P} y1={8} x2={P} y2={H - B} stroke="#999" />
        <text x={2} y={16} fontSize="10">{top}</text>
        <text x={2} y={H - B} fontSize="10">0</text>
        {bars.map((b, i) => {
          const x = P + 8 + i * (bw + 8);
          return (
            <g key={i} data-testid="bar">
              <rect x={x} y={y(b.value)} width={bw} height={H - B - y(b.value)} fill={b.accent ? '#1d7a34' : '#1f5fbf'} />
              <text x={x + bw / 2} y={y(b.value) - 3} fontSize="10" textAnchor="middle">{+b.value.toFixed(2)}</text>
              <text x={x + bw / 2} y={H - B + 12} fontSize="9" textAnchor="middle">{b.label}</text>
              {b.note && <text x={x + bw / 2} y={H - 2} fontSize="8" textAnchor="middle" fill="#55606c">{b.note}</text>}
            </g>);
        })}
      </svg>
    </figure>
  );
}
