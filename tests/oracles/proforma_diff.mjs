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
import { generate, runOracle, firstDiff, FEATURES, norm, NOW_MS, fixClock } from './proforma_lib.mjs';
import { Protocol as P } from '@openclinical/proformajs';

// one clock for both engines: now() and Date defaults (LEBEN: proforma_trace --now)
const seed0 = Date.now() % 1000000;
fixClock();
const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);
const seed = Number(opt('seed', seed0));
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
const out = spawnSync(bin, ['--now', String(NOW_MS)], { input, maxBuffer: 1 << 30, encoding: 'utf8' });
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
		// (the PROformajs-rules exploration's default bound: the verifier's volume as before)
		const run = () => spawnSync(verify, ['contract', 'check', f, '--json', '--max-states', '1000'], { encoding: 'utf8', timeout: 60000 });
		const a = run(), b = run();
		if (![0, 1].includes(a.status) || a.stdout !== b.stdout || a.status !== b.status) {
			vfail++;
			console.log(`# verifier on ${c.name}: status ${a.status}/${b.status} ${(a.stderr || (a.error && a.error.message) || "").slice(0, 300)}`);
		} else if (a.status === 1) found++;
	}
	rmSync(dir, { recursive: true, force: true });
	console.log(`# verifier: ${gen.length} generated protocols checked, ${found} with findings, ${vfail} failures`);
	if (tap) console.log(`${vfail ? 'not ok' : 'ok'} 4 - the verifier checks ${gen.length} generated protocols (derived data, enumerations, cycles, triggers): within bounds, exit 0 or 1, same report twice`);
}
// Exploration under the PROformajs rules (kn_enact_explore) on generated protocols; each
// deadlock's operations are replayed in PROformajs, which must reach the same state, not
// finished, with nothing to complete, confirm or trigger, and no single answer moving a task.
let xfail = 0;
const nexplore = Number(opt('explore', 0));
if (nexplore > 0) {
	// small protocols: explored completely more often, and quicker
	// (without the Date item: the exploration reads the wall clock, the replay the fixed one;
	// nor the times of states and values: the run moves the clock, the exploration does not)
	const gen = cases.filter((c) => c.kind === 'gen' && JSON.stringify(c.protocol).length < 2000 &&
		!JSON.stringify(c.protocol).includes('dt0') && !JSON.stringify(c.protocol).includes('now()') &&
		!/_time\(|last_updated\(/.test(JSON.stringify(c.protocol))).slice(0, nexplore);
	const xo = spawnSync(bin, ['--explore', '400'], { input: gen.map((c) => JSON.stringify({ protocol: c.protocol })).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
	if (xo.status !== 0) { xfail++; console.log(`# ${bin} --explore failed (status ${xo.status}): ${(xo.stderr || '').slice(0, 2000)}`); }
	const xl = (xo.stdout || '').split('\n');
	let ndead = 0, nunreach = 0, ncomplete = 0, nunreachChecked = 0;
	const bare = (t) => JSON.stringify(norm({ f: t.finished, t: t.tasks, c: t.completeable, r: t.requested, k: t.candidates, w: t.warnings, g: t.triggers }));
	const domain = (d) => {
		const vals = d.range ? d.range.map((v) => (v && v.value !== undefined ? v.value : v)) : null;
		if (d.multiValued) return vals ? [[], vals.slice(0, 1), vals] : [[]];
		if (d.constructor.name === 'Boolean') return [true, false];
		if (vals) return [...new Set(vals)].slice(0, 6);
		if (d.constructor.name === 'Integer') return [0, 2, 5];
		if (d.constructor.name === 'Float') return [0.5, 2.5, 5.5];
		return ['x'];
	};
	gen.forEach((c, i) => {
		const x = JSON.parse(xl[i] || '{"explore":null}').explore;
		if (!x || x.error) return;
		if (x.complete) ncomplete++;
		// every task PROformajs put in progress on this case's random run (paths end in
		// the task's name, a repetition's [i] dropped)
		// (first step: trace[k] follows ops[k - 1]), counting only runs whose operations
		// up to there are ones the exploration makes: answers from its domain (below),
		// complete, confirm, unconfirm, trigger, at most 12 of them
		const P1 = new P[c.protocol.class](JSON.parse(JSON.stringify(c.protocol)));
		const dom = new Map((P1.dataDefinitions || []).filter((d) => d.valueCondition == null).map((d) => [d.name, domain(d).map((v) => JSON.stringify(v))]));
		const covered = (op) => ['complete', 'confirm', 'unconfirm', 'trigger'].includes(op.op) ||
			(op.op === 'set' && Object.entries(op.data).every(([k, v]) => dom.has(k) && dom.get(k).includes(JSON.stringify(v))));
		const started = new Map();
		(c.trace || []).forEach((st, k) => {
			if (k > 12 || !(c.ops || []).slice(0, k).every(covered)) return;
			for (const [p, v] of Object.entries(st.tasks || {})) {
				const nm = p.slice(p.lastIndexOf(':') + 1).replace(/\[[0-9]+\]$/, '');
				if ((v === 'in_progress' || v === 'completed') && !started.has(nm)) started.set(nm, [p, k]);
			}
		});
		const names = JSON.stringify(c.protocol).match(/"name":"[^"]*"/g) || [];
		for (const f of x.findings) {
			if (f.kind === 'unreachable') {
				nunreach++;
				// an unreachable task (complete exploration) is never in progress in
				// PROformajs's run of the same protocol (names used once only)
				if (x.complete && names.filter((y) => y === `"name":${JSON.stringify(f.task)}`).length === 1 && started.has(f.task)) {
					xfail++;
					console.log(`# task ${f.task} of ${c.name}, unreachable for the exploration, is started by PROformajs at ${started.get(f.task)[0]} (ops ${JSON.stringify(c.ops.slice(0, started.get(f.task)[1]))})`);
				} else if (x.complete) {
					nunreachChecked++;
				}
				continue;
			}
			ndead++;
			const a = runOracle(c.protocol, { ops: f.ops });
			const b = JSON.parse(spawnSync(bin, ['--now', String(NOW_MS)], { input: JSON.stringify({ protocol: c.protocol, ops: f.ops }) + '\n', encoding: 'utf8' }).stdout).trace;
			const last = a.trace[a.trace.length - 1];
			let why = firstDiff(a.trace, b) ? 'LEBEN and PROformajs differ on the way' : null;
			// (an operation offered moves PROformajs unless it fails there, as every one
			// does once each cycle throws: try them)
			const offered = [...last.completeable.map((p) => ({ op: 'complete', path: p })),
				...last.triggers.map((n) => ({ op: 'trigger', name: n })),
				...Object.keys(last.candidates).filter((p) => last.tasks[p.slice(0, p.lastIndexOf(':'))] === 'in_progress')
					.flatMap((p) => [{ op: 'confirm', path: p }, { op: 'unconfirm', path: p }])];
			const moves = (op) => {
				const t = runOracle(c.protocol, { ops: [...f.ops, op] }).trace.slice(-1)[0];
				return !t.error && bare(t) !== bare(last);
			};
			if (!why && (last.finished || offered.some(moves)))
				why = 'PROformajs can still move';
			const P0 = new P.Plan(JSON.parse(JSON.stringify(c.protocol)));
			for (const d of why ? [] : P0.dataDefinitions.filter((d) => d.valueCondition == null))
				for (const v of domain(d)) {
					const r = runOracle(c.protocol, { ops: [...f.ops, { op: 'set', path: P0.name, data: { [d.name]: v } }] });
					const t = r.trace[r.trace.length - 1];
					if (!t.error && bare(t) !== bare(last)) { why = `answering ${d.name} = ${JSON.stringify(v)} moves PROformajs`; break; }
				}
			if (why) { xfail++; console.log(`# deadlock of ${c.name} does not replay in PROformajs: ${why} (ops ${JSON.stringify(f.ops)})`); }
		}
	});
	console.log(`# exploration under the PROformajs rules: ${gen.length} small generated protocols (${ncomplete} explored completely), ${ndead} deadlocks, ${nunreach} unreachable tasks (${nunreachChecked} of them, on complete explorations, checked never started in PROformajs's run of the case); ${xfail} counterexamples that do not replay in PROformajs`);
	if (ndead < Number(opt('explore-min', 1))) { xfail++; console.log('# no deadlock found to replay: explore more protocols (--explore)'); }
	if (tap) console.log(`${xfail ? 'not ok' : 'ok'} 5 - ${ndead} deadlock counterexamples of the PROformajs-rules exploration replay identically in PROformajs, and its ${nunreachChecked} unreachable tasks are never started there`);
}
process.exit(bad.length > nknown || vfail || xfail ? 1 : 0);
