// Validation and structural comparison of PROformajs JSON protocols with the reference
// engine @openclinical/proformajs (a test oracle: never linked or shipped with LEBEN).
//   node pf_validity.mjs validate FILE...   -> one line per file: "valid" or "invalid <issue>"
//   node pf_validity.mjs same A.json B.json -> "same" or the first difference (exit 1)
//   node pf_validity.mjs eval P.json VALUES.json -> for each derived item x<i> of P, in order,
//       the value the reference gives its valueCondition with VALUES set, one JSON per line
//       (undefined -> {"undefined":true}, NaN -> {"NaN":true}, ±Infinity -> {"Infinity":±1})
// "same" compares the two protocols as PROformajs sees them: defaults dropped (false, empty
// arrays), nested objects' class filled in, keys in any order, and every expression attribute
// compared by its parsed syntax tree (jse-eval, the reference's parser), not its spelling.
import { Protocol, Enactment } from '@openclinical/proformajs';
import { parse } from 'jse-eval';
import { readFileSync } from 'fs';

const load = (f) => JSON.parse(readFileSync(f, 'utf8'));

function validate(json) {
  try {
    const p = new Protocol[json.class](json);
    const errs = p.validate().filter((i) => i.type === 'Error');
    return errs.length ? `invalid ${JSON.stringify(errs[0])}` : 'valid';
  } catch (e) {
    return `invalid {"msg":${JSON.stringify('constructor: ' + e.message)}}`;
  }
}

const EXPR = new Set(['preCondition', 'waitCondition', 'abortCondition', 'terminateCondition',
  'cycleUntil', 'valueCondition', 'defaultCondition', 'warnCondition', 'requestCondition',
  'recommendCondition', 'activeCondition', 'validCondition']);
const CLASS_OF = { sources: 'Source', candidates: 'Candidate', arguments: 'Argument',
  warnings: 'Warning' };

function ast(src) {
  const strip = (n) => {
    if (Array.isArray(n)) return n.map(strip);
    if (n && typeof n === 'object') {
      const o = {};
      for (const k of Object.keys(n).sort()) if (k !== 'raw' && k !== 'optional') o[k] = strip(n[k]);
      return o;
    }
    return n;
  };
  try { return strip(parse(src)); } catch (e) { return { unparsable: src }; }
}

function norm(v, key, parentKey) {
  if (Array.isArray(v)) {
    return v.map((x) => {
      const n = norm(x, undefined, key);
      if (CLASS_OF[key] && n && typeof n === 'object' && n.class === undefined) n.class = CLASS_OF[key];
      return n;
    });
  }
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      const x = v[k];
      if (x === false || x === null || x === undefined) continue;
      if (Array.isArray(x) && x.length === 0) continue;
      if (k === 'meta') { o[k] = sortKeys(x); continue; }
      if (EXPR.has(k) && typeof x === 'string') { o[k] = ast(x); continue; }
      if (parentKey === 'postAssignments' && k === 'value') { o[k] = ast(x); continue; }
      o[k] = norm(x, k, key);
    }
    return o;
  }
  return v;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

function diff(a, b, path) {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b)) return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return `${path}: ${a.length} elements vs ${b.length}`;
    for (let i = 0; i < a.length; i++) { const d = diff(a[i], b[i], `${path}[${i}]`); if (d) return d; }
    return null;
  }
  if (a && typeof a === 'object') {
    const ka = Object.keys(a), kb = Object.keys(b);
    for (const k of ka) if (!(k in b)) return `${path}.${k}: missing in the second`;
    for (const k of kb) if (!(k in a)) return `${path}.${k}: only in the second`;
    for (const k of ka) { const d = diff(a[k], b[k], `${path}.${k}`); if (d) return d; }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

const [cmd, ...files] = process.argv.slice(2);
if (cmd === 'validate') {
  for (const f of files) console.log(`${f} ${validate(load(f))}`);
} else if (cmd === 'same') {
  const d = diff(norm(load(files[0])), norm(load(files[1])), '$');
  console.log(d ? `differ ${d}` : 'same');
  process.exit(d ? 1 : 0);
} else if (cmd === 'eval') {
  const json = load(files[0]);
  const values = load(files[1]);
  /* the enactment runs without the derived items (one that throws would stop it), then each
   * valueCondition is evaluated on its own */
  const base = { ...json, dataDefinitions: json.dataDefinitions.filter((d) => d.valueCondition === undefined) };
  const protocol = new Protocol[json.class](base);
  const enactment = new Enactment({ protocol, start: true });
  const enquiry = json.tasks.find((t) => t.class === 'Enquiry');
  enactment.set(`${json.name}:${enquiry.name}`, values);
  const enc = (v) => {
    if (v === undefined) return { undefined: true };
    if (typeof v === 'number' && Number.isNaN(v)) return { NaN: true };
    if (typeof v === 'number' && !Number.isFinite(v)) return { Infinity: v > 0 ? 1 : -1 };
    if (Array.isArray(v)) return v.map(enc);
    return v;
  };
  for (const d of json.dataDefinitions) {
    if (d.valueCondition === undefined) continue;
    let v;
    try { v = enc(enactment.evaluate(d.valueCondition, json.name)); } catch (e) { v = { throws: true }; }
    console.log(JSON.stringify(v));
  }
} else {
  console.error('usage: pf_validity.mjs validate FILE... | same A B');
  process.exit(2);
}
