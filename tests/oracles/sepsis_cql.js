// The sepsis screening risk logic of examples/contracts/sepsis.pf, written by hand as ELM
// (sepsis_elm.json) and run with the JavaScript CQL engine cql-execution: prints the risk
// class for the contract's scenario inputs (for a differential check) and executions per
// second of CPU time.
// usage: node sepsis_cql.js [seconds]
'use strict';
const cql = require('cql-execution');
const path = require('path');
const elm = require(path.join(__dirname, 'sepsis_elm.json'));
const lib = new cql.Library(elm);
const noPatients = { currentPatient: async () => undefined, nextPatient: async () => undefined };
const cases = [
	{ RespRate: 24, AlteredMentation: true, SystolicBP: 95, Lactate: null },
	{ RespRate: 16, AlteredMentation: false, SystolicBP: 120, Lactate: null },
	{ RespRate: 16, AlteredMentation: false, SystolicBP: 120, Lactate: 4.5 },
	{ RespRate: 23, AlteredMentation: false, SystolicBP: 120, Lactate: 1.0 },
	{ RespRate: 24, AlteredMentation: false, SystolicBP: 98, Lactate: null },
];
async function risk(params) {
	const ex = new cql.Executor(lib, new cql.CodeService({}), params);
	const r = await ex.exec(noPatients);
	return r.unfilteredResults.Risk;
}
(async () => {
	const secs = Number(process.argv[2] || 2);
	const out = [];
	for (const c of cases) out.push(await risk(c));
	console.log('cql-execution results: ' + out.join(' '));
	// CPU time of the process (user + system, all its threads): on a shared machine it
	// depends far less on other load than wall-clock time
	const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
	let n = 0;
	const t0 = cpu();
	let el = 0;
	do {
		for (let k = 0; k < 200; k++) await risk(cases[n++ % cases.length]);
		el = cpu() - t0;
	} while (el < secs);
	console.log(`cql-execution: ${n} executions of the sepsis risk logic in ${el.toFixed(2)} s of CPU = ${Math.round(n / el)} executions/s`);
})();
