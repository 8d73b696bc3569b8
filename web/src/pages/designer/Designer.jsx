// Knowledge designer: a PROforma contract drawn as a graph (plans, enquiries, decisions,
// actions; scheduling arrows from each task's antecedents), tasks moved by dragging (or with
// the arrow keys) and added from a form, the .pf text and the PROformajs JSON kept in sync with
// the graph both ways (the node converts: POST /v1/contracts/convert), the verifier's findings
// drawn on the diagram (POST /v1/contracts/check), and publication signed in the page.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api.js';
import { fromHex } from '../../lib/codec.js';
import { TX_TYPES, publishPayload } from '../../lib/tx.js';
import { KeyFileForm, useSigner, currentKey, publicView } from '../../lib/signer.jsx';
import { ErrorLine, Hash } from '../../lib/ui.jsx';

const NEW = `plan :: new_contract ;
  caption "A new contract";
end plan.
`;
const KINDS = ['Enquiry', 'Decision', 'Action', 'Plan'];
const W = 130, H = 46;

// The plan at a path of names from the root.
function planAt(model, path) {
  let p = model;
  for (const n of path.slice(1)) p = (p.tasks || []).find((t) => t.name === n) || p;
  return p;
}

// Columns by scheduling depth (longest chain of antecedents inside the plan).
function autoLayout(tasks) {
  const depth = {};
  const by = Object.fromEntries(tasks.map((t) => [t.name, t]));
  const d = (n, seen = new Set()) => {
    if (depth[n] != null) return depth[n];
    if (seen.has(n)) return 0;
    seen.add(n);
    const a = (by[n]?.antecedents || []).filter((x) => by[x]);
    return (depth[n] = a.length ? 1 + Math.max(...a.map((x) => d(x, seen))) : 0);
  };
  const rows = {};
  const pos = {};
  for (const t of tasks) {
    const c = d(t.name);
    rows[c] = (rows[c] || 0) + 1;
    pos[t.name] = { x: 20 + c * (W + 60), y: 20 + (rows[c] - 1) * (H + 40) };
  }
  return pos;
}

function Shape({ kind, bad }) {
  const stroke = bad ? '#b3261e' : '#0f2f5f', fill = bad ? '#fde8e6' : '#fff', sw = bad ? 3 : 1.5;
  if (kind === 'Enquiry') return <polygon points={`0,${H / 2} 18,0 ${W - 18},0 ${W},${H / 2} ${W - 18},${H} 18,${H}`} fill={fill} stroke={stroke} strokeWidth={sw} />;
  if (kind === 'Decision') return <ellipse cx={W / 2} cy={H / 2} rx={W / 2} ry={H / 2} fill={fill} stroke={stroke} strokeWidth={sw} />;
  if (kind === 'Plan') return <rect width={W} height={H} rx={14} fill={fill} stroke={stroke} strokeWidth={sw} strokeDasharray="6 3" />;
  return <rect width={W} height={H} rx={3} fill={fill} stroke={stroke} strokeWidth={sw} />;
}

// The tasks a counterexample step names: by name, or an enquiry asking for the data it answers
// ("answer symptoms = true" -> the enquiry whose source is symptoms). name -> [step numbers].
function pathSteps(tasks, findings) {
  const out = {};
  const steps = findings.flatMap((f) => f.trace || []);
  steps.forEach((st, i) => {
    const words = new Set(st.split(/[^A-Za-z0-9_]+/));
    for (const t of tasks)
      if (words.has(t.name) || (t.sources || []).some((so) => words.has(so.type))) (out[t.name] ??= []).push(i + 1);
  });
  return out;
}

function Graph({ plan, pos, setPos, findings, onOpenPlan, onDropKind }) {
  const tasks = plan.tasks || [];
  const svg = useRef(null);
  const drag = useRef(null);
  const bad = Object.fromEntries(findings.filter((f) => f.task).map((f) => [f.task, f]));
  const onPath = pathSteps(tasks, findings);
  const wMax = Math.max(600, ...Object.values(pos).map((p) => p.x + W + 20));
  const hMax = Math.max(220, ...Object.values(pos).map((p) => p.y + H + 40));
  const pt = (e) => {
    const r = svg.current.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * wMax) / r.width, y: ((e.clientY - r.top) * hMax) / r.height };
  };
  const move = (name, x, y) => setPos((p) => ({ ...p, [name]: { x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)) } }));
  return (
    <svg ref={svg} className="designer-graph" viewBox={`0 0 ${wMax} ${hMax}`} role="group" aria-label={`Tasks of plan ${plan.name}`}
      data-testid="graph"
      onPointerMove={(e) => { if (drag.current) { const p = pt(e); move(drag.current.name, p.x - drag.current.dx, p.y - drag.current.dy); } }}
      onPointerUp={() => { drag.current = null; }} onPointerLeave={() => { drag.current = null; }}
      onDragOver={(e) => { if (e.dataTransfer.types.includes('application/x-leben-task')) e.preventDefault(); }}
      onDrop={(e) => {
        const kind = e.dataTransfer.getData('application/x-leben-task');
        if (!KINDS.includes(kind)) return;
        e.preventDefault();
        const q = pt(e);
        onDropKind(kind, Math.max(0, Math.round(q.x - W / 2)), Math.max(0, Math.round(q.y - H / 2)));
      }}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" fill="#0f2f5f" /></marker></defs>
      {tasks.flatMap((t) => (t.antecedents || []).filter((a) => pos[a] && pos[t.name]).map((a) => {
        const s = pos[a], d = pos[t.name];
        return <line key={`${a}>${t.name}`} data-testid={`arrow-${a}-${t.name}`} x1={s.x + W} y1={s.y + H / 2} x2={d.x} y2={d.y + H / 2} stroke="#0f2f5f" strokeWidth="1.5" markerEnd="url(#arrow)" />;
      }))}
      {tasks.map((t) => {
        const p = pos[t.name] || { x: 0, y: 0 };
        const f = bad[t.name];
        return (
          <g key={t.name} transform={`translate(${p.x},${p.y})`} data-testid={`task-${t.name}`} data-kind={t.class} data-finding={f ? f.kind : undefined}
            data-path={onPath[t.name] ? onPath[t.name].join(',') : undefined}
            tabIndex={0} role="button" aria-label={`${t.class} ${t.name}${f ? `, ${f.kind}: ${f.message}` : ''}${onPath[t.name] ? `, step ${onPath[t.name].join(', ')} of the counterexample path` : ''}${t.class === 'Plan' ? ', Enter opens it' : ''}; arrow keys move it`}
            className="task" style={{ cursor: 'grab' }}
            onPointerDown={(e) => { const q = pt(e); drag.current = { name: t.name, dx: q.x - p.x, dy: q.y - p.y }; e.currentTarget.setPointerCapture?.(e.pointerId); }}
            onDoubleClick={() => t.class === 'Plan' && onOpenPlan(t.name)}
            onKeyDown={(e) => {
              const k = { ArrowLeft: [-10, 0], ArrowRight: [10, 0], ArrowUp: [0, -10], ArrowDown: [0, 10] }[e.key];
              if (k) { e.preventDefault(); move(t.name, p.x + k[0], p.y + k[1]); }
              if (e.key === 'Enter' && t.class === 'Plan') onOpenPlan(t.name);
            }}>
            <Shape kind={t.class} bad={!!f} />
            <text x={W / 2} y={18} textAnchor="middle" fontSize="10" fill="#55606c">{t.class.toLowerCase()}</text>
            <text x={W / 2} y={34} textAnchor="middle" fontSize="13" fontWeight="600">{t.name.length > 17 ? t.name.slice(0, 16) + '…' : t.name}</text>
            {f && <text x={W / 2} y={H + 14} textAnchor="middle" fontSize="11" fill="#b3261e" fontWeight="700">⚠ {f.kind}</text>}
            {onPath[t.name] && <g transform="translate(-6,-6)"><circle r="10" fill="#f0b400" stroke="#0f2f5f" />
              <text textAnchor="middle" y="4" fontSize="10" fontWeight="700">{onPath[t.name].join(',')}</text></g>}
          </g>);
      })}
    </svg>
  );
}

// Drag a kind of task onto the diagram (or press Enter on it) to add one with a fresh name.
function Palette({ onAdd }) {
  return (
    <div className="palette" role="group" aria-label="New tasks: drag one onto the diagram, or press Enter">
      {KINDS.map((k) => (
        <button key={k} type="button" draggable="true" className="secondary" data-testid={`palette-${k}`}
          onDragStart={(e) => { e.dataTransfer.setData('application/x-leben-task', k); e.dataTransfer.effectAllowed = 'copy'; }}
          onClick={() => onAdd(k)}>+ {k.toLowerCase()}</button>))}
    </div>
  );
}

function loadLayout(name) {
  try { return JSON.parse(localStorage.getItem(`leben.layout.${name}`) || '{}'); } catch { return {}; }
}

// A new task of a kind, with the smallest free name kind_N.
function newTask(kind, plan) {
  const used = new Set((plan.tasks || []).map((t) => t.name));
  let n = 1;
  while (used.has(`${kind.toLowerCase()}_${n}`)) n++;
  const t = { class: kind, name: `${kind.toLowerCase()}_${n}` };
  if (kind === 'Action') t.procedure = `Do ${t.name}`;
  if (kind === 'Decision') t.candidates = [{ class: 'Candidate', name: 'yes', caption: 'Yes' }, { class: 'Candidate', name: 'no', caption: 'No' }];
  if (kind === 'Plan') t.tasks = [];
  return t;
}

function AddTask({ plan, data, onAdd }) {
  const [kind, setKind] = useState('Enquiry');
  const [name, setName] = useState('');
  const [after, setAfter] = useState('');
  const [source, setSource] = useState('');
  const [err, setErr] = useState(null);
  function add(e) {
    e.preventDefault();
    setErr(null);
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return setErr(new Error('a task name starts with a letter and has letters, digits and _ only'));
    const t = { class: kind, name };
    if (after) t.antecedents = [after];
    if (kind === 'Enquiry' && source) t.sources = [{ class: 'Source', type: source }];
    if (kind === 'Action') t.procedure = `Do ${name}`;
    if (kind === 'Decision') t.candidates = [{ class: 'Candidate', name: 'yes', caption: 'Yes' }, { class: 'Candidate', name: 'no', caption: 'No' }];
    if (kind === 'Plan') t.tasks = [];
    onAdd(t).then(() => setName(''), setErr);
  }
  return (
    <form className="card" onSubmit={add} aria-labelledby="add-h">
      <h3 id="add-h">Add a task to {plan.name}</h3>
      <div className="row">
        <label>Kind <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>{KINDS.map((k) => <option key={k}>{k}</option>)}</select></label>
        <label>Task name <input value={name} onChange={(e) => setName(e.target.value)} spellCheck="false" /></label>
        <label>After <select aria-label="After" value={after} onChange={(e) => setAfter(e.target.value)}>
          <option value="">(no antecedent)</option>{(plan.tasks || []).map((t) => <option key={t.name}>{t.name}</option>)}</select></label>
        {kind === 'Enquiry' && <label>Asks for <select aria-label="Asks for" value={source} onChange={(e) => setSource(e.target.value)}>
          <option value="">(nothing yet)</option>{data.map((d) => <option key={d}>{d}</option>)}</select></label>}
      </div>
      <button type="submit">Add task</button>
      <ErrorLine error={err} />
    </form>
  );
}

function AddArrow({ plan, onArrow }) {
  const names = (plan.tasks || []).map((t) => t.name);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [err, setErr] = useState(null);
  function add(e) {
    e.preventDefault();
    setErr(null);
    if (!from || !to || from === to) return setErr(new Error('choose two different tasks'));
    onArrow(from, to).catch(setErr);
  }
  return (
    <form className="card" onSubmit={add} aria-labelledby="arr-h">
      <h3 id="arr-h">Add a scheduling arrow</h3>
      <div className="row">
        <label>From <select aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)}><option value="">—</option>{names.map((n) => <option key={n}>{n}</option>)}</select></label>
        <label>To <select aria-label="To" value={to} onChange={(e) => setTo(e.target.value)}><option value="">—</option>{names.map((n) => <option key={n}>{n}</option>)}</select></label>
      </div>
      <button type="submit">Add arrow</button>
      <ErrorLine error={err} />
    </form>
  );
}

// Remove a task (its arrows go with it) or one scheduling arrow of the plan shown.
function Remove({ plan, onChange }) {
  const names = (plan.tasks || []).map((t) => t.name);
  const arrows = (plan.tasks || []).flatMap((t) => (t.antecedents || []).map((a) => `${a} → ${t.name}`));
  const [task, setTask] = useState('');
  const [arrow, setArrow] = useState('');
  const [err, setErr] = useState(null);
  const act = (f) => { setErr(null); onChange(f).catch(setErr); };
  return (
    <section className="card" aria-labelledby="rm-h">
      <h3 id="rm-h">Delete</h3>
      <div className="row">
        <label>Task to delete <select value={task} onChange={(e) => setTask(e.target.value)}><option value="">—</option>{names.map((n) => <option key={n}>{n}</option>)}</select></label>
        <button type="button" disabled={!task} onClick={() => act((p) => {
          p.tasks = p.tasks.filter((t) => t.name !== task);
          for (const t of p.tasks) if (t.antecedents) { t.antecedents = t.antecedents.filter((a) => a !== task); if (!t.antecedents.length) delete t.antecedents; }
          setTask('');
        })}>Delete task</button>
      </div>
      <div className="row">
        <label>Arrow to delete <select value={arrow} onChange={(e) => setArrow(e.target.value)}><option value="">—</option>{arrows.map((n) => <option key={n}>{n}</option>)}</select></label>
        <button type="button" disabled={!arrow} onClick={() => act((p) => {
          const [from, to] = arrow.split(' → ');
          const t = p.tasks.find((x) => x.name === to);
          t.antecedents = t.antecedents.filter((a) => a !== from);
          if (!t.antecedents.length) delete t.antecedents;
          setArrow('');
        })}>Delete arrow</button>
      </div>
      <ErrorLine error={err} />
    </section>);
}

// A decision's candidates and their arguments (support + - ++ -- or a weight, an active
// condition in the expression language), edited in place.
function Candidates({ plan, onChange }) {
  const decisions = (plan.tasks || []).filter((t) => t.class === 'Decision');
  const [dn, setDn] = useState('');
  const [cand, setCand] = useState('');
  const [arg, setArg] = useState({ caption: '', support: '+', activeCondition: 'true' });
  const [err, setErr] = useState(null);
  const d = decisions.find((x) => x.name === dn) || decisions[0];
  if (!d) return null;
  const act = (f) => { setErr(null); onChange((p) => f(p.tasks.find((x) => x.name === d.name))).catch(setErr); };
  return (
    <section className="card" aria-labelledby="cand-h">
      <h3 id="cand-h">Candidates of <select aria-label="Decision" value={d.name} onChange={(e) => setDn(e.target.value)}>{decisions.map((x) => <option key={x.name}>{x.name}</option>)}</select></h3>
      <ul>{(d.candidates || []).map((c) => (
        <li key={c.name} data-testid={`cand-${c.name}`}><strong>{c.name}</strong> {c.caption && <span className="muted">({c.caption})</span>}
          <button type="button" className="link" aria-label={`Delete candidate ${c.name}`} onClick={() => act((t) => { t.candidates = t.candidates.filter((x) => x.name !== c.name); })}>delete</button>
          <ul>{(c.arguments || []).map((a, i) => (
            <li key={i} data-testid={`arg-${c.name}`}>{String(a.support)} {a.caption} <code>{a.activeCondition}</code>
              <button type="button" className="link" aria-label={`Delete argument ${i + 1} of ${c.name}`} onClick={() => act((t) => { const x = t.candidates.find((y) => y.name === c.name); x.arguments.splice(i, 1); if (!x.arguments.length) delete x.arguments; })}>delete</button></li>))}</ul>
        </li>))}</ul>
      <form className="row" onSubmit={(e) => { e.preventDefault(); if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(cand)) { setErr(new Error('a candidate name starts with a letter and has letters, digits and _ only')); return; }
        act((t) => { t.candidates = [...(t.candidates || []), { class: 'Candidate', name: cand, caption: cand }]; }); setCand(''); }}>
        <label>New candidate <input value={cand} onChange={(e) => setCand(e.target.value)} spellCheck="false" /></label>
        <button type="submit">Add candidate</button>
      </form>
      {(d.candidates || []).length > 0 && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); const to = e.target.elements.argcand.value;
          act((t) => { const c = t.candidates.find((x) => x.name === to); c.arguments = [...(c.arguments || []), { class: 'Argument', caption: arg.caption, support: arg.support, activeCondition: arg.activeCondition || 'true' }]; }); }}>
          <label>For <select name="argcand" aria-label="Argument for">{d.candidates.map((c) => <option key={c.name}>{c.name}</option>)}</select></label>
          <label>Support <select aria-label="Support" value={arg.support} onChange={(e) => setArg({ ...arg, support: e.target.value })}>{['+', '-', '++', '--'].map((x) => <option key={x}>{x}</option>)}</select></label>
          <label>Argument caption <input value={arg.caption} onChange={(e) => setArg({ ...arg, caption: e.target.value })} /></label>
          <label>Active when <input value={arg.activeCondition} onChange={(e) => setArg({ ...arg, activeCondition: e.target.value })} spellCheck="false" /></label>
          <button type="submit">Add argument</button>
        </form>)}
      <ErrorLine error={err} />
    </section>);
}

// Step through a run on the node (POST /v1/contracts/step, the PROformajs rules): the
// enquiries asked as a form, decisions' candidates confirmed, tasks completed; the page keeps
// the operations, the node replays them on every step.
const typed = (q, v) => { const t = String(q.type).toLowerCase(); return t === 'integer' || t === 'float' || t === 'number' ? Number(v) : t === 'boolean' ? v === 'true' : v; };
// Saved runs: per contract name in this browser (localStorage), each its operations — the
// same JSON array `leben contract run FILE --rules proformajs --answers RUN.json` replays — and
// the state the node gave for them, so a resumed run shows whether it still ends there.
const runsKey = (name) => `leben.runs.${name}`;
function loadRuns(name) {
  try { return JSON.parse(localStorage.getItem(runsKey(name)) || '[]'); } catch { return []; }
}
function SavedRuns({ name, runs, onResume }) {
  if (!runs.length) return null;
  return (
    <div data-testid="saved-runs"><h4>Saved runs of {name}</h4>
      <ul>{runs.map((x, i) => (
        <li key={x.saved} data-testid="saved-run">{new Date(x.saved).toLocaleString()} · {x.ops.length} steps{x.finished ? ' · finished' : ''}{' '}
          <button type="button" onClick={() => onResume(x)}>Resume run {i + 1}</button></li>))}</ul>
    </div>);
}

function Runner({ source, name }) {
  const [ops, setOps] = useState(null);
  const [r, setR] = useState(null);
  const [err, setErr] = useState(null);
  const [runs, setRuns] = useState(() => loadRuns(name));
  const [note, setNote] = useState(null);
  async function go(next, saved = null) {
    setErr(null);
    setNote(null);
    try {
      const a = await api.stepContract(source, next);
      setOps(next);
      setR(a);
      if (saved) setNote(JSON.stringify(a.state) === JSON.stringify(saved.state) ? 'Resumed: the node gives the state saved with this run.'
        : 'Resumed, but the node gives another state than the one saved (the contract changed since).');
    } catch (e) { setErr(e); }
  }
  function save() {
    const list = [...runs, { saved: Date.now(), ops, state: r.state, finished: !!r.pending.finished }];
    try { localStorage.setItem(runsKey(name), JSON.stringify(list)); setRuns(list); setNote(`Saved in this browser (${list.length} saved run${list.length === 1 ? '' : 's'} of ${name}).`); } catch (e) { setErr(e); }
  }
  async function openFile(f) {
    setErr(null);
    try {
      const j = JSON.parse(await f.text());
      const list = Array.isArray(j) ? j : j.ops;
      if (!Array.isArray(list)) throw new Error('a run file is a JSON array of operations ({"op": "set", "path", "data"}, complete, confirm, …)');
      await go(list);
    } catch (e) { setErr(e); }
  }
  const fileInput = <label>Open a run file <input type="file" accept=".json,application/json" onChange={(e) => e.target.files[0] && openFile(e.target.files[0])} /></label>;
  if (!ops) return <section className="card" aria-labelledby="run-h"><h3 id="run-h">Run step by step</h3>
    <button type="button" onClick={() => go([])}>Start a run</button> {fileInput}
    <SavedRuns name={name} runs={runs} onResume={(x) => go(x.ops, x)} /><ErrorLine error={err} /></section>;
  const p = r.pending;
  const byEnquiry = {};
  for (const q of p.questions || []) (byEnquiry[q.path] ||= []).push(q);
  return (
    <section className="card" aria-labelledby="run-h" data-testid="runner">
      <h3 id="run-h">Run step by step <span className="muted">({ops.length} steps)</span></h3>
      {r.refused && <p className="error" role="alert">Refused: {r.refused}</p>}
      {p.finished ? <p data-testid="run-finished"><strong>Finished.</strong></p> : null}
      {Object.entries(byEnquiry).map(([path, qs]) => (
        <form key={path} data-testid={`ask-${qs[0].enquiry}`} onSubmit={(e) => {
          e.preventDefault();
          const data = {};
          for (const q of qs) { const v = e.target.elements[q.data].value; if (v !== '') data[q.data] = typed(q, v); }
          go([...ops, { op: 'set', path, data }, { op: 'complete', path }]);
        }}>
          <fieldset><legend>{qs[0].enquiry}</legend>
            {qs.map((q) => (
              <label key={q.data}>{q.caption || q.data}{q.unit ? ` (${q.unit})` : ''}{q.mandatory ? ' *' : ''}{' '}
                {q.allowed?.length || String(q.type).toLowerCase() === 'boolean' ? (
                  <select name={q.data} defaultValue=""><option value="">—</option>{(q.allowed?.length ? q.allowed : [true, false]).map((v) => <option key={String(v)} value={String(v)}>{String(v)}</option>)}</select>
                ) : <input name={q.data} inputMode={/integer|float/i.test(q.type) ? 'decimal' : undefined} />}
              </label>))}
            <button type="submit">Answer</button>
          </fieldset>
        </form>))}
      {(p.decisions || []).map((d) => (
        <div key={d.path} data-testid={`decide-${d.name}`}>
          <p><strong>{d.caption || d.name}</strong></p>
          <ul>{d.candidates.map((c) => (
            <li key={c.path}>{c.caption || c.name} — support {String(c.support)}{c.recommended ? ' (recommended)' : ''}{c.confirmed ? ' ✓' : ''}{' '}
              <button type="button" onClick={() => go([...ops, { op: c.confirmed ? 'unconfirm' : 'confirm', path: c.path }])}>{c.confirmed ? 'Unconfirm' : 'Confirm'} {c.name}</button></li>))}</ul>
          <button type="button" disabled={!d.completeable} onClick={() => go([...ops, { op: 'complete', path: d.path }])}>Complete {d.name}</button>
        </div>))}
      {(p.tasks || []).map((t) => (
        <p key={t.path}>{t.class} <strong>{t.caption || t.name}</strong>{t.procedure ? `: ${t.procedure}` : ''}{' '}
          <button type="button" onClick={() => go([...ops, { op: 'complete', path: t.path }])}>Complete {t.name}</button></p>))}
      <details><summary>State</summary><pre className="code wrap" data-testid="run-state">{JSON.stringify(r.state, null, 1)}</pre></details>
      {note && <p role="status" data-testid="run-note">{note}</p>}
      <div className="row">
        <button type="button" onClick={save} disabled={!ops.length}>Save the run</button>
        <a className="button" data-testid="run-download" download={`${name}-run.json`}
          href={`data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(ops, null, 1))}`}>Download its operations</a>
        <button type="button" className="secondary" onClick={() => { setOps(null); setR(null); setNote(null); }}>Stop the run</button>
      </div>
      <SavedRuns name={name} runs={runs} onResume={(x) => go(x.ops, x)} />
      <ErrorLine error={err} />
    </section>);
}

function Publish({ check }) {
  const [me, setMe] = useState(publicView(currentKey()));
  const [done, setDone] = useState(null);
  const s = useSigner(me, (r) => setDone(r), { proof: false });
  if (!check || check.failures) return null;
  const p = check.publish;
  if (!me) return <KeyFileForm onOpen={setMe} title="Publish: open the author's key" button="Open key file"><p className="muted">The contract is
    published on the business chain, signed in this browser by the author's key.</p></KeyFileForm>;
  return (
    <section className="card" aria-labelledby="pub-h">
      <h3 id="pub-h">Publish</h3>
      <p>Contract <Hash value={p.source_hash} /> ({p.canonical.length} bytes of canonical .pf), verifier report <Hash value={p.report_hash} />, signed by {me.name}.</p>
      {!s.reviewing && !done && <button type="button" onClick={() => s.review(TX_TYPES.contractPublish,
        () => publishPayload(fromHex(p.source_hash), fromHex(p.report_hash), p.canonical), { chain: 'business', explain: 'the chain re-verifies the contract before accepting it' })}>Publish to the chain</button>}
      {s.reviewing || <ErrorLine error={s.err} />}
      {s.outcome}
      {done && done.status === 'committed' && <p data-testid="published">Published as contract <code>{p.source_hash}</code>.</p>}
    </section>
  );
}

export default function Designer() {
  const [model, setModel] = useState(null);
  const [pf, setPf] = useState('');
  const [js, setJs] = useState('');
  const [path, setPath] = useState([]);
  const [pos, setPos] = useState({});
  const [check, setCheck] = useState(null);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const editing = useRef({ pf: null, js: null });

  // Everything from one source text: the model (JSON), both texts, a fresh layout.
  async function load(source, keep = null) {
    setErr(null);
    const j = await api.convert(source, 'json');
    const m = JSON.parse(j.source);
    const t = keep === 'pf' ? null : await api.convert(j.source, 'pf');
    setModel(m);
    if (keep !== 'json') setJs(j.source);
    if (t) setPf(t.source);
    setCheck(null);
    setPath((p) => (p.length && p[0] === m.name ? p : [m.name]));
    return m;
  }
  // /designer?contract=HASH opens a published contract (from the store)
  useEffect(() => {
    const h = new URLSearchParams(location.search).get('contract');
    (h ? api.contract(h).then((c) => load(c.source)) : load(NEW)).catch(setErr);
  }, []);
  const plan = model ? planAt(model, path) : null;
  useEffect(() => {
    if (!plan) return;
    setPos((p) => {
      const auto = autoLayout(plan.tasks || []);
      const out = {};
      const saved = loadLayout(model.name);
      for (const t of plan.tasks || []) out[t.name] = p[t.name] || saved[t.name] || auto[t.name];
      return out;
    });
  }, [plan]);

  // The layout is saved in this browser per contract name (localStorage) as it changes.
  useEffect(() => {
    if (model && Object.keys(pos).length) {
      try { localStorage.setItem(`leben.layout.${model.name}`, JSON.stringify({ ...loadLayout(model.name), ...pos })); } catch { /* storage full or off */ }
    }
  }, [pos]);

  // Text edits: converted after a pause; the edited text is left as typed.
  function edited(kind, value) {
    (kind === 'pf' ? setPf : setJs)(value);
    clearTimeout(editing.current[kind]);
    editing.current[kind] = setTimeout(() => load(value, kind).catch(setErr), 600);
  }
  // Graph edits change the model, then both texts are printed from it by the node.
  async function change(mutate) {
    const m = structuredClone(model);
    mutate(planAt(m, path), m);
    await load(JSON.stringify(m));
  }
  function addKind(kind, x, y) {
    const t = newTask(kind, plan);
    if (x != null) setPos((p) => ({ ...p, [t.name]: { x, y } }));
    change((p) => { p.tasks = [...(p.tasks || []), t]; }).catch(setErr);
  }
  async function runCheck() {
    setBusy(true);
    setErr(null);
    try { setCheck(await api.checkContract(pf)); } catch (e) { setErr(e); } finally { setBusy(false); }
  }
  async function openFile(e) {
    const f = e.target.files[0];
    if (!f) return;
    setPos({});
    try { await load(await f.text()); } catch (ex) { setErr(ex); }
    e.target.value = '';
  }
  const data = (model?.dataDefinitions || []).map((d) => d.name);
  const findings = check?.findings || [];
  return (
    <div className="designer">
      <section className="card" aria-labelledby="des-h">
        <h2 id="des-h">Knowledge designer {model && <span className="muted">· {model.name}</span>}</h2>
        <div className="row">
          <label>Open a contract (.pf or PROformajs JSON) <input type="file" accept=".pf,.json,text/plain,application/json" onChange={openFile} /></label>
          <button type="button" className="secondary" onClick={() => { setPos({}); load(NEW).catch(setErr); }}>New contract</button>
          <button type="button" onClick={runCheck} disabled={busy || !model}>{busy ? 'Checking…' : 'Check'}</button>
        </div>
        <ErrorLine error={err} />
        {plan && (
          <>
            <nav aria-label="Plans" className="crumbs">
              {path.map((n, i) => <span key={i}>{i > 0 && ' › '}<button type="button" className="link" onClick={() => setPath(path.slice(0, i + 1))}>{n}</button></span>)}
            </nav>
            <Palette onAdd={(k) => addKind(k)} />
            <Graph plan={plan} pos={pos} setPos={setPos} findings={findings} onOpenPlan={(n) => setPath([...path, n])}
              onDropKind={(k, x, y) => addKind(k, x, y)} />
            <p className="muted small">Drag a task (or focus it and use the arrow keys) to move it; double-click or Enter opens a plan.
              A finding's task is outlined in red; the tasks its counterexample path goes through carry the step numbers.</p>
          </>)}
        {check && (
          <div data-testid="findings" role="status">
            {check.failures === 0 ? <p className="ok">✓ The verifier found nothing ({check.states} states explored): it can be published.</p> : (
              <>
                <p className="bad">The verifier found {check.failures} problem{check.failures === 1 ? '' : 's'} ({check.states} states explored):</p>
                <ul>{findings.map((f, i) => (
                  <li key={i} data-testid="finding"><strong>{f.kind}</strong>{f.task ? ` at ${f.task}` : ''}: {f.message}
                    {f.trace?.length ? <> — path: {f.trace.join(' → ')}</> : null}</li>))}</ul>
              </>)}
          </div>)}
      </section>
      {plan && (
        <div className="grid2">
          <AddTask plan={plan} data={data} onAdd={(t) => change((p) => { p.tasks = [...(p.tasks || []), t]; })} />
          <AddArrow plan={plan} onArrow={(from, to) => change((p) => {
            const t = p.tasks.find((x) => x.name === to);
            t.antecedents = [...new Set([...(t.antecedents || []), from])];
          })} />
          <Remove plan={plan} onChange={change} />
          <Candidates plan={plan} onChange={change} />
        </div>)}
      <div className="grid2">
        <section className="card" aria-labelledby="pf-h">
          <h3 id="pf-h">Text (.pf)</h3>
          <textarea aria-labelledby="pf-h" className="code" value={pf} onChange={(e) => edited('pf', e.target.value)} spellCheck="false" rows={22} data-testid="pf-text" />
        </section>
        <section className="card" aria-labelledby="js-h">
          <h3 id="js-h">PROformajs JSON</h3>
          <textarea aria-labelledby="js-h" className="code" value={js} onChange={(e) => edited('js', e.target.value)} spellCheck="false" rows={22} data-testid="json-text" />
        </section>
      </div>
      {model && <Runner key={pf} source={pf} name={model.name || 'contract'} />}
      <Publish check={check} />
    </div>
  );
}
