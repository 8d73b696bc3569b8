// Random token sequences as PROformajs expressions (member access, `this`, `?.`, separators,
// sequences, literals), each in a derived item: PROformajs's validation and LEBEN's reader
// (proforma_trace --accept) must agree, and LEBEN's JSON print must be the same syntax tree.
//   node pf_tokens.mjs SEED TRACE [N]   (exit 1 on a disagreement; counted: members LEBEN
//   refuses by name, names PROformajs's validation lets through as values, arities)
import { spawnSync } from 'node:child_process';
import { validate, norm, diff } from './pf_validity.mjs';
import { rng } from './proforma_lib.mjs';
const r = rng(Number(process.argv[2] || 1));
const toks = ['s', 'n', 'l', 'this', '.', '?.', '[', ']', '(', ')', ',', ' ', 'length', 'includes', 'diff', 'days',
  "'length'", "'x'", '0', '1', '+', '-', '!', '==', '>', '?', ':', 'now()', 'hours', ';', 'is_known', "'n'", 'count', 'u', '.5', '"0x1f"'];
const cases = [];
const n = Number(process.argv[4] || 4000);
for (let i = 0; i < n; i++) {
  let e = ''; for (let k = r.int(1, 9); k > 0; k--) e += r.pick(toks) + (r.chance(0.3) ? ' ' : '');
  const p = { class: 'Plan', name: 'p', dataDefinitions: [{ class: 'Text', name: 's', range: ['x', 'length', '0x1f', 'n'] },
    { class: 'Integer', name: 'n' }, { class: 'Text', name: 'l', multiValued: true, range: ['x'] }, { class: 'Integer', name: 'u' },
    { class: 'Text', name: 'v', valueCondition: e }], tasks: [{ class: 'Action', name: 'a' }] };
  cases.push(p);
}
const out = spawnSync(process.argv[3], ['--accept'], { input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 }).stdout.split('\n');
let bad = 0, acc = 0, ex = 0;
cases.forEach((c, i) => {
  const got = JSON.parse(out[i]);
  const v = validate(JSON.parse(JSON.stringify(c)));
  const valid = v === 'valid';
  if (valid && !got.ok) {
    if (/is not read|'this' \(PROformajs|without a call|undefined data item|takes \d|unknown function|is not a data/.test(got.error)) { ex++; return; }
    bad++; if (bad < 12) console.log('refused', JSON.stringify(c.dataDefinitions[4].valueCondition), got.error.slice(0, 150));
  } else if (!valid && got.ok) {
    bad++; if (bad < 12) console.log('accepted', JSON.stringify(c.dataDefinitions[4].valueCondition), v.slice(0, 150));
  } else if (valid) {
    acc++;
    const d = diff(norm(c), norm(JSON.parse(got.json)), '$');
    if (d) { bad++; if (bad < 12) console.log('print', JSON.stringify(c.dataDefinitions[4].valueCondition), d.slice(0, 200)); }
  }
});
console.log(`${n} ${acc} ${ex} ${bad}`);
process.exit(bad ? 1 : 0);
