// Validation and structural comparison of PROformajs JSON protocols with the reference
// engine @openclinical/proformajs (a test oracle: never linked or shipped with LEBEN).
//   node pf_validity.mjs validate FILE...   -> one line per file: "valid" or "invalid <issue>"
//   node pf_validity.mjs same A.json B.json -> "same" or the first difference (exit 1)
//   node pf_validity.mjs eval P.json VALUES.json -> for each derived item x<i> of P, in order,
//       the value the reference gives its valueCondition with VALUES set, one JSON per line
//       (undefined -> {"undefined":true}, NaN -> {"NaN":true}, ±Infinity -> {"Infinity":±1})
//   node pf_validity.mjs generate N SEED DIR -> N protocols from the differential test's
//       generator (proforma_lib.mjs), DIR/g<i>.json
//   node pf_validity.mjs mutate N SEED DIR FILE... -> N mutants of the FILEs (a key dropped, a
//       value replaced by one of another type or a reserved word, a name duplicated, an
//       expression broken...), DIR/m<i>.json, for the validation-parity test
//   node pf_validity.mjs pairs LIST          -> for each line "ORIGINAL LEBEN_OUTPUT|-" of LIST:
//       "ORIGINAL valid|invalid same|differ <where>|-" (one process for many files)
// "same" compares the two protocols as PROformajs sees them: defaults dropped (false, empty
// arrays), nested objects' class filled in, keys in any order, and every expression attribute
// compared by its parsed syntax tree (jse-eval, the reference's parser), not its spelling.
import { Protocol, Enactment } from '@openclinical/proformajs';
import { parse } from 'jse-eval';
import { readFileSync } from 'fs';

const load = (f) => JSON.parse(readFileSync(f, 'utf8'));

export function validate(json) {
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

// Attributes PROformajs reads by truthiness, and its own lists (ignored unless arrays).
const FLAGS = new Set(['optional', 'autonomous', 'cyclic', 'multiValued', 'useDefaults',
  'autoConfirmMostSupported', 'autoConfirmRecommended']);
const LISTS = new Set(['tasks', 'sources', 'candidates', 'arguments', 'dataDefinitions', 'warnings']);

export function norm(v, key, parentKey) {
  if (Array.isArray(v)) {
    return v.map((x) => {
      const n = norm(x, undefined, key);
      if (CLASS_OF[key] && n && typeof n === 'object' && !Array.isArray(n)) n.class = CLASS_OF[key];
      return n;
    });
  }
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      let x = v[k];
      if (FLAGS.has(k)) x = Boolean(x);
      if (LISTS.has(k) && !Array.isArray(x)) continue;
      if (EXPR.has(k) && x === '') continue;
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

export function diff(a, b, path) {
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

// (imported by pf_accept.mjs for validate, norm and diff: the commands run only as a script)
const main = import.meta.url === (await import('url')).pathToFileURL(process.argv[1] || '').href;
const [cmd, ...files] = main ? process.argv.slice(2) : [null];
if (!main) {
  // a module: nothing to run
} else if (cmd === 'validate') {
  for (const f of files) console.log(`${f} ${validate(load(f))}`);
} else if (cmd === 'same') {
  const d = diff(norm(load(files[0])), norm(load(files[1])), '$');
  console.log(d ? `differ ${d}` : 'same');
  process.exit(d ? 1 : 0);
} else if (cmd === 'eval') {
  // (now() reads the clock the differential test fixes: js_member.* asks for it)
  (await import('./proforma_lib.mjs')).fixClock();
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
} else if (cmd === 'generate') {
  const { generate, FEATURES } = await import('./proforma_lib.mjs');
  const { writeFileSync } = await import('fs');
  const [n, seed, dir] = files;
  for (let i = 0; i < +n; i++) {
    // (without the times feature: its design paths in expressions, 'p0:t1', meet a mutation
    // that writes the root's name as a list, ["p0"], which PROformajs's validation still takes
    // as the path's first name and LEBEN does not: an acceptance gap still open)
    const g = generate(+seed + i, { ...FEATURES, times: false });
    writeFileSync(`${dir}/g${i}.json`, JSON.stringify(g.protocol ?? g, null, 1));
  }
} else if (cmd === 'mutate') {
  const { writeFileSync } = await import('fs');
  const [n, seed, dir, ...srcs] = files;
  let x = (+seed >>> 0) || 1;
  const rnd = (k) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % k; };
  const pick = (a) => a[rnd(a.length)];
  const bases = srcs.map(load);
  const replacements = [undefined, null, '', 'count', '_x', 'zz', '1', 1, 2.5, -1, true, false,
    [], [1], ['a'], {}, { value: 1 }, '+', '++', 'x &&', 'a and b', 'n = 1', "'nope'",
    'is_known(zz)', "net_support('nope')", 'undefined', 'null',
    // names written as lists: PROformajs tests String(name), so some pass
    [['b']], ['_'], ['_a'], ['a', 'b'], [null], [1.5], ['count']];
  for (let i = 0; i < +n; i++) {
    const j = JSON.parse(JSON.stringify(pick(bases)));
    const slots = [];
    const walk = (o) => {
      if (Array.isArray(o)) { o.forEach((v, k) => { slots.push([o, k]); walk(v); }); }
      else if (o && typeof o === 'object') for (const k of Object.keys(o)) { slots.push([o, k]); walk(o[k]); }
    };
    walk(j);
    const muts = 1 + rnd(2);
    const names = slots.filter(([o, k]) => k === 'name');
    const defs = slots.filter(([o, k]) => k === 'dataDefinitions' && Array.isArray(o[k])).flatMap(([o, k]) => o[k]);
    for (let m = 0; m < muts; m++) {
      const [o, k] = pick(slots);
      const kind = rnd(6);
      if (kind === 5 && defs.length) {
        // a Date item whose default is written another way (the reference reads it with
        // moment.js's forgiving 'YYYY-MM-DDTHH:mm:ss.SSSZ')
        const d = pick(defs);
        if (d && typeof d === 'object') {
          d.class = 'Date';
          delete d.range; delete d.valueCondition;
          d.defaultValue = pick(['2020/1/5', '5 March 2021', '2020-01-05T10:30:00.000+05:30',
            '2020-02-30', '2021-02-29', '99', 'zebra', 'x+16', 'hello', '', 2020, 12.5, true,
            ['2020-01-05'], [], '2020-01-05T24:00', '2020-01-05T24:01', '1999-12-31T23:59:59.999Z']);
        }
      } else if (kind === 4 && names.length) {
        // a name written as a list (the reference accepts ["a"], [1], [["b"]]...)
        const [no, nk] = pick(names);
        no[nk] = pick([[no[nk]], [[no[nk]]], [no[nk], 'b'], ['_'], ['_' + no[nk]], [7], [null]]);
      } else if (kind === 0 && !Array.isArray(o)) delete o[k];
      else if (kind === 1 && Array.isArray(o) && o[k] && typeof o[k] === 'object') o.push(JSON.parse(JSON.stringify(o[k])));
      else o[k] = pick(replacements);
    }
    writeFileSync(`${dir}/m${i}.json`, JSON.stringify(j, null, 1));
  }
} else if (cmd === 'dates') {
  // N random spellings of a Date default, each read by moment.js as PROformajs reads it
  // ('YYYY-MM-DDTHH:mm:ss.SSSZ', forgiving) and by LEBEN (proforma_trace --dates): validity
  // and day must agree (the day is compared when no offset moves it), and so must the time
  // (ms since 1970, UTC) a Date value holds under the PROformajs rules
  const { spawnSync } = await import('child_process');
  const moment = (await import('moment')).default;
  const [n, seed, bin] = files;
  let x = (+seed >>> 0) || 1;
  const rnd = (k) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % k; };
  const parts = ['+14', '-12:00', '+15', '-13', '+0099', '+05:30', '2020', '20', '1999', '7', '12',
    '31', '29', '02', '-', '/', ' ', 'T', ':', '.', 'Z', 'z', 'abc', '13', '24', '60', '00', '0',
    '123', '5', 'x', ',', '2021-02-29', '2024-02-29', '10:30', 'March'];
  const cases = ['2020-01-05', '2020/1/5', '5 2020', 'zebra', 'Z', '+05', 'hello', '', '2020-13-01',
    '2020-02-30', '2020-01-05T24:00', '2020-01-05T24:01', '99', '69', '68', '1.5', '12.5', '2020,1'];
  while (cases.length < +n) {
    let t = '';
    for (let k = 1 + rnd(6); k > 0; k--) t += parts[rnd(parts.length)];
    cases.push(t);
  }
  const out = spawnSync(bin, ['--dates'], { input: cases.join('\n') + '\n', encoding: 'utf8' }).stdout.split('\n');
  let bad = 0, valid = 0;
  cases.forEach((c, i) => {
    const m = moment.utc(c, 'YYYY-MM-DDTHH:mm:ss.SSSZ');
    const ok = m.isValid() ? 1 : 0;
    valid += ok;
    const [lo, ld, lms] = (out[i] || '').split(' ').map(Number);
    const day = ok ? Math.floor(m.valueOf() / 86400000) : 0;
    if (lo !== ok || (ok && ld !== day && !/[zZ+]|-\d\d/.test(c)) || (ok && lms !== m.valueOf())) {
      if (bad++ < 5) console.log(`# ${JSON.stringify(c)}: moment ${ok} day ${day} ms ${ok ? m.valueOf() : 0}, LEBEN ${lo} day ${ld} ms ${lms}`);
    }
  });
  console.log(`${cases.length} ${valid} ${bad}`);
  process.exit(bad ? 1 : 0);
} else if (cmd === 'pairs') {
  for (const line of readFileSync(files[0], 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const [a, b] = line.split(' ');
    const ja = load(a);
    const v = validate(ja).startsWith('valid') ? 'valid' : 'invalid';
    let same = '-';
    if (b === a) {
      same = 'loaded';
    } else if (b !== '-') {
      const d = diff(norm(ja), norm(load(b)), '$');
      same = d ? `differ ${d}` : 'same';
    }
    console.log(`${a} ${v} ${same}`);
  }
} else {
  console.error('usage: pf_validity.mjs validate FILE... | same A B');
  process.exit(2);
}
