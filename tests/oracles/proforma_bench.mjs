// PROformajs against LEBEN's PROformajs enactment, speed (make bench-knowledge): the same
// generated protocols and answer sequences as the differential test (fixed seed), each enacted
// REPS times by PROformajs (new Enactment + every operation) and by LEBEN
// (build/tests/proforma_trace --bench, 20 times as many: it is faster). PROformajs runs before and after LEBEN; the ratio uses
// the mean of the two.  Usage: node proforma_bench.mjs TRACE_BIN [CASES] [REPS]
import { spawnSync } from 'node:child_process';
import { Protocol as P, Enactment } from '@openclinical/proformajs';
import { generate, runOracle, applyOp } from './proforma_lib.mjs';

const [bin, ncases = '300', nreps = '5'] = process.argv.slice(2);
const seed = 20261206, reps = Number(nreps);
const cases = [];
for (let i = 0; cases.length < Number(ncases); i++) {
	const s = seed * 100003 + i;
	const p = generate(s);
	const r = runOracle(p, { seed: s, maxSteps: 20 });
	if (!r.invalid && !r.message) cases.push({ protocol: p, ops: r.ops });
}
function js() {
	let n = 0, steps = 0;
	const t0 = process.cpuUsage();
	for (const c of cases) {
		const proto = new P.Plan(c.protocol);
		for (let k = 0; k < reps; k++) {
			const en = new Enactment({ protocol: proto, start: true });
			for (const op of c.ops) { try { applyOp(en, op); } catch (e) { /* refused, as recorded */ } }
			n++; steps += c.ops.length + 1;
		}
	}
	const u = process.cpuUsage(t0);
	const s = (u.user + u.system) / 1e6;
	return { n, steps, s, rate: n / s };
}
const a = js();
const out = spawnSync(bin, ['--bench', String(reps * 20)], { input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
const b = js();
process.stdout.write(out.stdout);
const lr = Number((out.stdout.match(/= (\d+) enactments\/s/) || [])[1]);
const jr = (a.rate + b.rate) / 2;
console.log(`PROformajs 0.11 enactment: ${a.n} enactments (${a.steps} steps) in ${a.s.toFixed(3)} s before, ${b.s.toFixed(3)} s after = ${jr.toFixed(0)} enactments/s (mean)`);
console.log(`speed-up of LEBEN over PROformajs on ${cases.length} generated protocols x ${reps}: ${(lr / jr).toFixed(1)}x`);
