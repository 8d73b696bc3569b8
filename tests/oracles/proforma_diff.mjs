// Differential runner: PROformajs (the oracle) against LEBEN's PROformajs enactment
// (build/tests/proforma_trace), step by step, on regression cases, example contracts and
// generated protocols with random answer sequences. Prints the counts, every disagreement
// (first differing step and field), and exits 1 if there is any.
//
//   node proforma_diff.mjs --trace build/tests/proforma_trace [--seed S] [--cases N]
//        [--steps M] [--regress DIR] [--examples DIR] [--save DIR] [--tap] [--only-regress]
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, basename } from 'node:path';
import { tmpdir } from 'node:os';
import { generate, runOracle, firstDiff, FEATURES } from './proforma_lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);
const seed = Number(opt('seed', Date.now() % 1000000));
const ncases = Number(opt('cases', 1000));
const steps = Number(opt('steps', 20));
const bin = opt('trace', 'build/tests/proforma_trace');
const regress = opt('regress', null);
const examples = opt('examples', null);
const save = opt('save', null);
const tap = flag('tap');
const features = { ...FEATURES };
for (const f of (opt('without', '') || '').split(',').filter(Boolean)) features[f] = false;

const cases = []; // {name, protocol, ops, trace}
let invalid = 0;
if (regress && existsSync(regress))
	for (const f of readdirSync(regress).filter((x) => x.endsWith('.json')).sort()) {
		const c = JSON.parse(readFileSync(join(regress, f), 'utf8'));
		const res = runOracle(c.protocol, { ops: c.ops });
		if (res.invalid) { console.log(`# regression ${f}: PROformajs refuses it: ${res.invalid[0]}`); continue; }
		cases.push({ name: `regress/${f}`, protocol: c.protocol, ops: res.ops, trace: res.trace, kind: 'regress', known: c.known });
	}
// example contracts whose disagreement is known and owned elsewhere: {"file.json": "why"}
const knownEx = regress && existsSync(join(regress, 'known-examples.txt'))
	? Object.fromEntries(readFileSync(join(regress, 'known-examples.txt'), 'utf8').split('\n')
		.filter((l) => l && !l.startsWith('#')).map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]))
	: {};
if (examples && existsSync(examples))
	for (const f of readdirSync(examples).filter((x) => x.endsWith('.json') && x !== 'scenarios.json').sort()) {
		const p = JSON.parse(readFileSync(join(examples, f), 'utf8'));
		const res = runOracle(p, { seed, maxSteps: steps });
		if (res.invalid) { console.log(`# example ${f}: PROformajs refuses it: ${res.invalid[0]}`); continue; }
		cases.push({ name: `example/${f}`, protocol: p, ops: res.ops, trace: res.trace, kind: 'example', known: knownEx[f] });
	}
if (!flag('only-regress'))
	for (let i = 0; i < ncases; i++) {
		const s = seed * 100003 + i;
		const p = generate(s, features);
		const res = runOracle(p, { seed: s, maxSteps: steps });
		if (res.invalid) { invalid++; continue; }
		cases.push({ name: `gen/${seed}/${i}`, protocol: p, ops: res.ops, trace: res.trace, kind: 'gen' });
	}

const input = cases.map((c) => JSON.stringify({ protocol: c.protocol, ops: c.ops })).join('\n') + '\n';
const out = spawnSync(bin, [], { input, maxBuffer: 1 << 30, encoding: 'utf8' });
if (out.status !== 0) {
	console.log(`not ok 1 - ${bin} failed (status ${out.status}): ${out.stderr}`);
	process.exit(1);
}
const lines = out.stdout.split('\n');
let nsteps = 0;
const bad = [];
cases.forEach((c, i) => {
	nsteps += c.trace.length;
	const got = JSON.parse(lines[i] || '{"load_error":"no output"}');
	let d;
	if (got.load_error) d = { step: -1, field: 'load', oracle: 'accepted', leben: got.load_error };
	else d = firstDiff(c.trace, got.trace);
	if (d) bad.push({ c, d });
	else if (c.known) console.log(`# ${c.name} agrees now: remove its known mark (${c.known})`);
});
const nknown = bad.filter((b) => b.c.known).length;

const byKind = (k) => cases.filter((c) => c.kind === k).length;
console.log(`# seed ${seed}: ${cases.length} cases compared (${byKind('regress')} regression, ` +
	`${byKind('example')} example, ${byKind('gen')} generated; ${invalid} generated protocols ` +
	`PROformajs refused were skipped), ${nsteps} steps, ${bad.length} disagreements ` +
	`(${nknown} known, marked in tests/data/proforma)`);
for (const { c, d } of bad.slice(0, 40)) {
	console.log(`# ${c.known ? 'KNOWN' : 'DISAGREE'} ${c.name} step ${d.step} ${d.op ? JSON.stringify(d.op) : ''} ${d.field}:` +
		(c.known ? ` (${c.known})` : ''));
	console.log(`#   PROformajs: ${JSON.stringify(d.oracle)}`);
	console.log(`#   LEBEN:      ${JSON.stringify(d.leben)}`);
}
if (save && bad.length) {
	mkdirSync(save, { recursive: true });
	for (const { c, d } of bad) {
		if (c.kind !== 'gen') continue;
		const f = join(save, `${c.name.replace(/[/]/g, '-')}.json`);
		writeFileSync(f, JSON.stringify({ note: `${d.field} differs at step ${d.step}`, protocol: c.protocol, ops: c.ops }, null, 1) + '\n');
		console.log(`# kept as ${basename(f)}`);
	}
}
if (tap) {
	let n = 0;
	const kinds = [['regress', 'regression cases'], ['example', 'example contracts'], ['gen', 'generated protocols']];
	for (const [k, label] of kinds) {
		const nb = bad.filter((b) => b.c.kind === k && !b.c.known).length;
		const nk = bad.filter((b) => b.c.kind === k && b.c.known).length;
		console.log(`${nb ? 'not ok' : 'ok'} ${++n} - ${byKind(k)} ${label} agree step by step with PROformajs (${nb} disagreements${nk ? `, ${nk} known ones listed above` : ''})`);
	}
}
// The verifier on the full language: `leben contract check` on generated protocols (every
// feature) ends within its bounds with 0 (nothing found) or 1 (findings), the same bytes twice.
let vfail = 0;
const verify = opt('verify', null);
if (verify) {
	const nv = Number(opt('verify-cases', 100));
	const dir = mkdtempSync(join(tmpdir(), 'pfverify-'));
	const gen = cases.filter((c) => c.kind === 'gen').slice(0, nv);
	let found = 0;
	for (const c of gen) {
		const f = join(dir, 'p.json');
		writeFileSync(f, JSON.stringify(c.protocol));
		const run = () => spawnSync(verify, ['contract', 'check', f, '--json', '--max-states', '20000'], { encoding: 'utf8', timeout: 60000 });
		const a = run(), b = run();
		if (![0, 1].includes(a.status) || a.stdout !== b.stdout || a.status !== b.status) {
			vfail++;
			console.log(`# verifier on ${c.name}: status ${a.status}/${b.status} ${a.stderr.slice(0, 300)}`);
		} else if (a.status === 1) found++;
	}
	rmSync(dir, { recursive: true, force: true });
	console.log(`# verifier: ${gen.length} generated protocols checked, ${found} with findings, ${vfail} failures`);
	if (tap) console.log(`${vfail ? 'not ok' : 'ok'} 4 - the verifier checks ${gen.length} generated protocols (derived data, enumerations, cycles, triggers): within bounds, exit 0 or 1, same report twice`);
}
process.exit(bad.length > nknown || vfail ? 1 : 0);
