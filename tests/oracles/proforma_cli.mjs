// What a user runs is what the differential test checks: `leben contract run` and
// `leben contract check` on PROformajs JSON protocols (which use the PROformajs rules by
// default), compared with PROformajs itself (@openclinical/proformajs, a test oracle only).
//
//   node proforma_cli.mjs --leben build/leben --examples DIR --deadlock FILE.json
//        [--seed S] [--cases N] [--check-cases K]
//
// 1. `contract run FILE --answers OPS.json --json` (an operation list) on the examples and N
//    generated protocols, each with the oracle's random operations: every printed step equals
//    the oracle's (firstDiff of proforma_lib.mjs), and the exit status says finished or not.
// 2. `contract run FILE --answers ANSWERS.json --json` (answers by item, the step-through
//    driver) on the examples with the answers of scenarios.json: the operations the run chose,
//    replayed in PROformajs, give the same states at every step.
// 3. `contract run` stopped half way with --save, then --resume: the same final state.
// 4. `contract check FILE --json` on the hand-made deadlock and on K generated protocols:
//    every deadlock's counterexample (the "trace" operations) replayed in PROformajs reaches
//    the same state, not finished, with nothing to complete, confirm or trigger; and the same
//    operations given to `contract run` print the same steps.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { generate as gen, runOracle, firstDiff, FEATURES } from './proforma_lib.mjs';

// without the generator's Date item: `contract run` reads the wall clock (now()), the
// exploration its fixed one; Date values are compared under one fixed clock in
// test_knowledge_diff (proforma_diff.mjs)
// (nor the times of states and values, feature times: their runs move the clock with each
// operation's `at`, which `contract run` does not read)
const generate = (seed) => gen(seed, { ...FEATURES, dates: false, times: false });

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const leben = opt('leben', 'build/leben');
const examples = opt('examples', 'examples/contracts');
const seed = Number(opt('seed', 20261206));
const ncases = Number(opt('cases', 60));
const ncheck = Number(opt('check-cases', 80));
const dir = mkdtempSync(join(tmpdir(), 'pfcli-'));
let nt = 0, failed = 0;
const ok = (good, what) => { nt++; if (!good) failed++; console.log(`${good ? 'ok' : 'not ok'} ${nt} - ${what}`); };
const say = (m) => console.log(`# ${m}`);

// `leben contract run` on a protocol: {status, steps (the JSON step lines), stderr}
function lebenRun(protocol, answers, extra = []) {
	const pf = join(dir, 'p.json'), af = join(dir, 'a.json');
	writeFileSync(pf, JSON.stringify(protocol));
	const a = answers == null ? [] : (writeFileSync(af, JSON.stringify(answers)), ['--answers', af]);
	const r = spawnSync(leben, ['contract', 'run', pf, '--json', ...a, ...extra], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60000 });
	const steps = (r.stdout || '').split('\n').filter((l) => l.startsWith('{'))
		.map((l) => JSON.parse(l)).filter((e) => e.event === 'step');
	return { status: r.status, steps, stderr: r.stderr || '' };
}
const opsOf = (steps) => steps.filter((s) => s.step > 0).map((s) => { const o = { ...s.op }; return o; });

// 1. operation lists
const protos = [];
for (const f of readdirSync(examples).filter((x) => x.endsWith('.json') && x !== 'scenarios.json').sort())
	protos.push({ name: `example/${f}`, p: JSON.parse(readFileSync(join(examples, f), 'utf8')) });
for (let i = 0; protos.length < ncases + 8 && i < ncases * 3; i++) {
	const p = generate(seed * 100003 + i);
	protos.push({ name: `gen/${seed}/${i}`, p });
}
let bad = 0, nsteps = 0, nrun = 0, nfin = 0;
for (const { name, p } of protos) {
	const o = runOracle(p, { seed: seed + nrun, maxSteps: 25 });
	if (o.invalid || o.message) continue;
	nrun++;
	const l = lebenRun(p, o.ops);
	const d = firstDiff(o.trace, l.steps);
	const fin = o.trace[o.trace.length - 1].finished;
	nfin += fin;
	nsteps += l.steps.length;
	if (d || l.status !== (fin ? 0 : 1)) {
		bad++;
		if (bad <= 5) say(`${name}: ${d ? JSON.stringify(d).slice(0, 600) : `exit status ${l.status}, finished ${fin}`} ${l.stderr.slice(0, 200)}`);
	}
}
say(`contract run --answers OPS: ${nrun} protocols, ${nsteps} steps (${nfin} finished), ${bad} disagreements with PROformajs`);
ok(bad === 0 && nrun >= 8, `contract run with an operation list prints PROformajs's states at every step (${nrun} protocols, ${nsteps} steps)`);

// 2. answers by item (the step-through driver), scenarios of the examples
const scen = JSON.parse(readFileSync(join(examples, 'scenarios.json'), 'utf8'));
let nsc = 0, badsc = 0, finsc = 0;
for (const [c, list] of Object.entries(scen)) {
	let p;
	try { p = JSON.parse(readFileSync(join(examples, `${c}.json`), 'utf8')); } catch { continue; }
	for (const s of list) {
		const answers = { ...s.answers, ...(s.committed || {}) };
		const l = lebenRun(p, answers);
		nsc++;
		finsc += l.status === 0;
		const o = runOracle(p, { ops: opsOf(l.steps) });
		const d = o.trace ? firstDiff(o.trace, l.steps) : { invalid: o.invalid };
		if (d || l.steps.length < 2 || ![0, 1].includes(l.status)) {
			badsc++;
			if (badsc <= 5) say(`${c} / ${s.name}: ${JSON.stringify(d).slice(0, 600)} status ${l.status} ${l.stderr.slice(0, 200)}`);
		}
	}
}
say(`contract run --answers ANSWERS: ${nsc} scenarios (${finsc} finished), ${badsc} disagreements with PROformajs`);
ok(badsc === 0 && nsc > 0 && finsc === nsc, `contract run's step-through with answers by item does what PROformajs does with the same operations, and every scenario finishes (${nsc} scenarios, ${finsc} finished)`);

// 3. save half way, resume
{
	let nres = 0, badres = 0;
	for (const { p } of protos.slice(0, 20)) {
		const o = runOracle(p, { seed: 7, maxSteps: 12 });
		if (o.invalid || o.message || o.ops.length < 4) continue;
		nres++;
		const h = Math.floor(o.ops.length / 2), sf = join(dir, 's.json');
		lebenRun(p, o.ops.slice(0, h), ['--save', sf]);
		const l = lebenRun(p, o.ops.slice(h), ['--resume', sf]);
		const last = l.steps[l.steps.length - 1], want = o.trace[o.trace.length - 1];
		const d = last ? firstDiff([want], [{ ...last, error: want.error }]) : 'no step';
		if (d || l.steps.length !== o.ops.length - h + 1) { badres++; say(`resume: ${JSON.stringify(d).slice(0, 400)} ${l.stderr.slice(0, 200)}`); }
	}
	ok(badres === 0 && nres > 0, `a run saved half way and resumed ends in PROformajs's state (${nres} protocols)`);
}

// 4. contract check's counterexamples replay in PROformajs
function checkDeadlocks(protocol, tag, extra = []) {
	const pf = join(dir, 'c.json');
	writeFileSync(pf, JSON.stringify(protocol));
	const r = spawnSync(leben, ['contract', 'check', pf, '--json', ...extra], { encoding: 'utf8', timeout: 120000 });
	let rep = null;
	try { rep = JSON.parse(r.stdout); } catch { /* reported below */ }
	if (!rep || ![0, 1].includes(r.status) || rep.rules !== 'proformajs') return { error: `${tag}: status ${r.status} ${r.stderr.slice(0, 300)}` };
	const dead = rep.findings.filter((f) => f.kind === 'deadlock');
	const why = [];
	// "error": PROformajs must throw while starting it too
	if (rep.findings.some((f) => f.kind === 'error') && !runOracle(protocol, { ops: [] }).message)
		why.push('contract check says PROformajs cannot start it, but PROformajs starts it');
	for (const f of dead) {
		const o = runOracle(protocol, { ops: f.trace });
		const last = o.trace[o.trace.length - 1];
		if (o.trace.some((s) => s.error)) why.push('an operation is refused in PROformajs');
		else if (last.finished || last.completeable.length || last.triggers.length ||
			Object.keys(last.candidates).some((p) => last.tasks[p.slice(0, p.lastIndexOf(':'))] === 'in_progress'))
			why.push(`PROformajs can still move after ${JSON.stringify(f.trace)}`);
		const l = lebenRun(protocol, f.trace);
		const d = firstDiff(o.trace, l.steps);
		if (d) why.push(`contract run differs: ${JSON.stringify(d).slice(0, 300)}`);
		if (l.status !== 1) why.push(`contract run exit ${l.status} on a deadlock`);
	}
	return { dead: dead.length, complete: rep.complete, why, status: r.status,
		unreachable: rep.findings.filter((f) => f.kind === 'unreachable').map((f) => f.task) };
}
{
	const c = JSON.parse(readFileSync(opt('deadlock', 'tests/data/proforma/hand-deadlock-wait.json'), 'utf8'));
	const x = checkDeadlocks(c.protocol, 'hand-made deadlock');
	ok(!x.error && x.status === 1 && x.dead > 0 && x.why.length === 0,
		`contract check finds the hand-made deadlock (${x.dead} counterexamples) and each replays in PROformajs ${x.error || x.why.join('; ')}`);
	const pf = join(dir, 'c.json');
	const txt = spawnSync(leben, ['contract', 'check', pf], { encoding: 'utf8' }).stdout || '';
	ok(/deadlock/.test(txt) && /"op":"complete","path":"stuck:ask"/.test(txt) && /unreachable in treat/.test(txt),
		'contract check prints the deadlock with its operations and the unreachable task');
	let nd = 0, nx = 0, errs = [];
	for (let i = 0; i < ncheck; i++) {
		const p = generate(seed * 7 + i);
		if (JSON.stringify(p).length > 2000 || runOracle(p, { maxSteps: 1 }).invalid) continue;
		nx++;
		const y = checkDeadlocks(p, `gen ${i}`);
		if (y.error) errs.push(y.error);
		else { nd += y.dead; errs.push(...y.why.map((w) => `gen ${i}: ${w}`)); }
	}
	for (const e of errs.slice(0, 5)) say(e);
	say(`contract check on ${nx} small generated protocols: ${nd} deadlocks, ${errs.length} problems`);
	ok(errs.length === 0, `contract check's deadlock counterexamples on ${nx} generated protocols replay in PROformajs (${nd} deadlocks)`);
}
// 5. every example JSON contract explores completely within the chain's largest bound
// (200000 states; what `contract publish` needs); hypertension.json's findings are its own
// (docs/knowledge-language.md §10.3), each deadlock, if any, replaying in PROformajs
for (const f of readdirSync(examples).filter((x) => x.endsWith('.json') && x !== 'scenarios.json').sort()) {
	const p = JSON.parse(readFileSync(join(examples, f), 'utf8'));
	const x = checkDeadlocks(p, `example/${f}`, ['--max-states', '200000']);
	let pass = x.status === 0 && x.complete;
	if (f === 'hypertension.json') {
		// its findings: tasks PROformajs discards when the plan starts (their preconditions
		// read the decision before it is made), and nothing else
		const o = runOracle(p, { ops: [] });
		const st = o.trace[0] ? o.trace[0].tasks : {};
		pass = x.status === 1 && x.complete && x.dead === 0 && x.unreachable.length === 9 &&
			st['hypertension:emergency_referral'] === 'discarded' &&
			st['hypertension:diagnose_and_treat'] === 'discarded';
	}
	ok(!x.error && pass && x.why.length === 0,
		`example/${f} explores completely within 200000 states${f === 'hypertension.json' ? '' : ' with no finding (it publishes)'} ${x.error || x.why.join('; ')}`);
}
// and a small protocol scheduled by LEBEN's antecedents alone shows the same finding
{
	const c = JSON.parse(readFileSync(join(dirname(opt('deadlock', 'tests/data/proforma/hand-deadlock-wait.json')), 'hand-unreachable-after.json'), 'utf8'));
	const x = checkDeadlocks(c.protocol, 'antecedents only');
	// its findings: the tasks PROformajs discards when the plan starts (their preconditions
	// read the decision before it is made), and nothing else; PROformajs never starts them
	const o = runOracle(c.protocol, { ops: [] });
	const st = o.trace[0] ? o.trace[0].tasks : {};
	const run = runOracle(c.protocol, { ops: c.ops });
	const started = run.trace.some((t) => Object.entries(t.tasks).some(([k, v]) => /:(refer|treat|dose)$/.test(k) && v !== 'discarded' && v !== 'dormant'));
	ok(!x.error && x.status === 1 && x.complete && x.dead === 0 &&
		JSON.stringify(x.unreachable.sort()) === '["dose","refer","treat"]' &&
		st['triage:refer'] === 'discarded' && st['triage:treat'] === 'discarded' && !started,
		`contract check finds the 3 tasks a protocol scheduled by antecedents alone never reaches, which PROformajs discards at the start ${x.error || JSON.stringify(x.unreachable)}`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`1..${nt}`);
process.exit(failed ? 1 : 0);
