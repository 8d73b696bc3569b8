// Acceptance and round-trip sweep of LEBEN's PROformajs JSON reader against the reference
// engine @openclinical/proformajs (a test oracle: never linked or shipped with LEBEN).
//
//   node pf_accept.mjs --trace build/tests/proforma_trace [--seed S] [--mutants N]
//        [--generated G] [--run R] [--save DIR] [--tap] [--root DIR] [--show-exceptions]
//
// Bases: the example contracts' JSON forms, tests/data/knowledge_json/valid*/ and G protocols
// of the differential test's generator. N mutants of
// them (an attribute dropped, added, retyped or renamed, keys and lists reordered, names
// with odd characters or reserved words, edge expressions: operators, precedence, escapes,
// unicode, odd arities, whitespace, semicolons; nesting; class changes; duplicated keys in
// the text). Each base and mutant goes to PROformajs (validate(), as pf_validity.mjs) and to
// LEBEN (`proforma_trace --accept`, one process for all) and must agree:
//   - PROformajs-valid  => LEBEN accepts it (but for the documented exceptions below), its
//     JSON print is the same protocol for PROformajs (pf_validity.mjs's `norm`: defaults
//     PROformajs fills in dropped, expressions by syntax tree) and valid for PROformajs, and
//     JSON -> .pf -> JSON gives the same print when the .pf form can hold it;
//   - PROformajs-invalid => LEBEN refuses it, its message naming the element (a name or
//     type on PROformajs's error path, or the file position);
//   - for R of the accepted ones, LEBEN's enactment runs step-identically with PROformajs's
//     (the differential harness's random answer sequences).
// Each disagreement is printed; --save DIR keeps each as a regression case
// ({"protocol", "ops", "note"}; tests/data/proforma/ holds those for the differential test).
// Exit 1 on any disagreement.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Protocol } from '@openclinical/proformajs';
import { parse as jsParse } from 'jse-eval';
import { validate, norm, diff } from './pf_validity.mjs';
import { generate, runOracle, firstDiff, fixClock, NOW_MS, rng, FEATURES } from './proforma_lib.mjs';

fixClock();
// (PROformajs logs rejected defaults with console.log: kept out of the report)
const say = console.log;
console.log = () => {};
const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);
const root = opt('root', '.');
const bin = opt('trace', join(root, 'build/tests/proforma_trace'));
const seed = Number(opt('seed', 20261207));
const nmut = Number(opt('mutants', 3000));
const ngen = Number(opt('generated', 100));
const nrun = Number(opt('run', 300));
const save = opt('save', null);
const tap = flag('tap');

// Accepted by PROformajs, refused by LEBEN on purpose (docs/knowledge-language.md §5.2): the
// message says which. A data name defined in two tasks is handled elsewhere (scope rules).
const EXCEPTIONS = [
	// still to close (docs/knowledge-language.md §5.2 lists them): JavaScript LEBEN's
	// expressions do not evaluate, and names PROformajs's validation lets through
	// (bitwise operators, **, ??, compound and comma expressions and chained comparisons are
	// read now: these are what is left)
	// (`this` alone is read now; `this[k]`, `(this).x` stay refused, which no mutant writes)
	[/JavaScript's member '[^']*' \(a method or property of JavaScript's or moment\.js's own\) is not read|JavaScript's \.[a-z]+\(\) with \d+ arguments is not read/, "JavaScript's members LEBEN does not model (x.toFixed(2) and the other methods of JavaScript's or moment.js's own, where a data item is named toFixed)"],
	[/may store the top-level task's name '.*' as its value/, "the top-level task's state object stored as a data value (its name as a derived value or default)"],
];

// ---- bases ------------------------------------------------------------------------------------
const load = (f) => JSON.parse(readFileSync(f, 'utf8'));
const jsonIn = (d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => join(d, f)) : []);
const bases = [];
for (const f of jsonIn(join(root, 'examples/contracts'))) if (!f.endsWith('scenarios.json')) bases.push(load(f));
for (const d of ['valid', 'valid_json']) for (const f of jsonIn(join(root, 'tests/data/knowledge_json', d))) bases.push(load(f));
// (the regression cases of tests/data/proforma are not bases, so that adding one leaves the
// mutants as they are; one marked "known" is a run disagreement being worked on, which the
// differential test lists: a mutant equal to its protocol counts as known here)
const known = new Set();
for (const f of jsonIn(join(root, 'tests/data/proforma'))) {
	const c = load(f);
	if (c.known) known.add(JSON.stringify(c.protocol));
}
// (without the generator's jsops and loose layers, whose operators the expression mutations below write
// anyway: the bases, and so the mutants and the run sample, stay what they were before it)
for (let i = 0; i < ngen; i++) bases.push(generate(seed * 7 + i, { ...FEATURES, jsops: false, loose: false, members: false, thisAlone: false, nulls: false }));

// ---- mutations --------------------------------------------------------------------------------
const r = rng(seed);
const clone = (x) => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));
const EXPR = ['preCondition', 'waitCondition', 'abortCondition', 'terminateCondition', 'cycleUntil',
	'valueCondition', 'defaultCondition', 'warnCondition', 'requestCondition', 'recommendCondition',
	'activeCondition'];
const ATTRS = ['meta', 'caption', 'description', 'name', 'class', 'optional', 'autonomous', 'cyclic',
	'eventTrigger', 'dataDefinitions', 'tasks', 'sources', 'useDefaults', 'type', 'candidates',
	'autoConfirmMostSupported', 'autoConfirmRecommended', 'arguments', 'support', 'range',
	'multiValued', 'defaultValue', 'warnings', 'idx', ...EXPR];
const VALUES = [undefined, null, '', ' ', '0', '1', '1.5', '-1', 'true', 'false', '[]', '[1]', '["a"]',
	'null', 'x', 'count', '_x', '__proto__', 'constructor', 'toString', 0, 1, -1, 2.5, 1e21, -0,
	true, false, [], [1], ['a'], [null], [[]], {}, { value: 1 }, { value: 'a', caption: 'A' },
	{ a: 1 }, '+', '-', '++', '--', 'Integer', 'Plan', 'Text'];
const NAMES = ['a', 'A1', '1a', '9', '_a', 'a_', 'a__b', 'é', 'aé', 'a-b', 'a b', ' a', 'a ', '',
	'true', 'false', 'null', 'this', 'undefined', 'count', 'now', 'diff', 'days', 'NaN', 'Infinity',
	'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'prototype', 'length',
	'in', 'new', 'typeof', 'var', 'if', 'x'.repeat(119), 'x'.repeat(121), 'a:b', 'a[1]', 'a.b', 'a$',
	'$', 'ǅ', '٣', 'a٣', 'ａ', 7, 0, 1.5, true, ['a'], ['_a'], null];
const CLASSES = ['Plan', 'Task', 'Action', 'Enquiry', 'Decision', 'Integer', 'Float', 'Text', 'Boolean',
	'Date', 'DataDefinition', 'Source', 'Candidate', 'Argument', 'Warning', 'plan', 'PLAN', 'Foo', ''];

// expressions built from the identifiers a protocol has (data names, task and candidate
// names) and the corners of PROformajs's parser (jse-eval)
function exprPool(ids) {
	const d = ids.data.length ? r.pick(ids.data) : 'x', e = ids.data.length ? r.pick(ids.data) : 'y';
	const t = ids.tasks.length ? r.pick(ids.tasks) : 't', c = ids.cands.length ? r.pick(ids.cands) : 'c';
	return [
		'true', 'false', '1', '0', '-1', '1.5', '.5', '5.', '1e3', '1E-3', '1e+2', '0.1+0.2 == 0.3', '007', '0b1', '0o7', '0x1f', '1_000',
		`${d}`, `!${d}`, `!!${d}`, `- -${d}`, `+${d}`, `~${d}`, `typeof ${d}`, `void ${d}`,
		`${d} > 1`, `${d}>1`, `${d}   >\t1`, `\n${d} > 1\n`, `${d} >= 1 && ${e} < 3 || ${d} == 2`,
		`${d} + ${e} * 2 - 1 / 3 % 2`, `(${d} + ${e}) * 2`, `${d} ** 2`, `${d} == null`, `${d} === null`,
		`${d} != undefined`, `${d} !== undefined`, `${d} ? 1 : 2`, `${d} ? ${e} ? 1 : 2 : 3`,
		`${d} & 1`, `${d} | 1`, `${d} ^ 1`, `${d} << 1`, `${d} >> 1`, `${d} >>> 1`, `${d} ?? 1`,
		`${d} in ${e}`, `${d}, ${e}`, `${d};`, `${d} ;`, `;`, `${d};;`, `(${d})`, `((${d}))`, `()`,
		`'a' + ${d}`, `"a" == 'a'`, `'it\\'s'`, `"q\\"q"`, `'\\n\\t\\\\'`, `'\\u00e9' == 'é'`, `'\\x41'`,
		`'é'`, `"😀"`, `'a' < 'b'`, `'${d}'`, `"${t}"`, `''`, `""`, '`x`', `'a`,
		`is_finished('${t}')`, `is_finished("${t}")`, `is_finished(${t})`, `is_finished('${t}', 1)`,
		`is_finished()`, `is_completed('${t}') && !is_discarded('${t}')`, `is_in_progress('${t}')`,
		`is_dormant('${t}')`, `net_support('${c}')`, `net_support('${c}') > 0`, `net_support('${t}', '${c}')`,
		`net_support()`, `result_of('${t}') == '${c}'`, `result_set('${t}')`, `includes(result_set('${t}'), '${c}')`,
		`is_known('${d}')`, `is_known(${d})`, `is_known('${d}', '${e}')`, `is_valid('${d}')`, `caption('${d}')`,
		`count(${d})`, `count(${d}, ${e})`, `count()`, `sum(${d})`, `min(${d})`, `max(${d})`, `nth(${d}, 0)`,
		`nth(${d})`, `abs(${d})`, `round(${d})`, `round(${d}, 2)`, `exp(${d})`, `log(${d})`, `sin(${d})`,
		`random()`, `random(1)`, `random() < 2`, `index()`, `index('${t}')`, `now()`, `now() > 0`,
		`includes(${d}, 1)`, `includes(${d})`, `includes('${d}', 'a')`, `last_updated('${d}')`,
		`num_finished(['${t}'])`, `num_completed(['${t}', '${t}'])`, `[1, 2]`, `[]`, `[${d}, ${e}]`,
		`[1,2][0]`, `${d}[0]`, `${d}.length`, `${d}.foo`, `now().diff(${d}, 'days')`, `Math.abs(1)`,
		`this`, `this.${d}`, `this['${d}']`, `${t}`, `${c}`, `undefined`, `null`, `NaN`, `Infinity`,
		`${d} = 1`, `${d}++`, `${d} += 1`, `x => x`, `function(){}`, `new Foo()`, `/a/`, `{}`, `{a: 1}`,
		`${d} /* c */ > 1`, `${d} > 1 // c`, `#`, `@`, `${d} >`, `(${d}`, `${d})`, `'${d}`, `is_finished('${t}'`,
		'is_finished', 'count', 'now', '_x()', '_evaluate(1)', 'constructor', 'toString()', '__proto__',
		`${d} == '1'`, `${d} === 1`, `!(${d} > 1)`, `- ${d} ** 2`, `(-${d}) ** 2`, `2 ** -1`,
		`${d} > 1 > 0`, `${d} < ${e} < 3`, `1 - -1`, `1--1`, `1 + + 1`, `'a' - 1`, `true + 1`,
	];
}

// member access, `this`, sequences in parentheses, blank-separated lists and texts JavaScript
// converts to numbers (docs/knowledge-language.md §4.2): drawn with a PRNG of their own (rm),
// so that the mutants the other draws make stay what they were
const rm = rng(seed ^ 0x6d656d62);
function memberPool(ids) {
	const d = ids.data.length ? rm.pick(ids.data) : 'x', e = ids.data.length ? rm.pick(ids.data) : 'y';
	const t = ids.tasks.length ? rm.pick(ids.tasks) : 't';
	return [
		// (lists of constants: a list holding an unset item is a known difference of its own,
		// tests/data/proforma: LEBEN's list is then unknown)
		`(${d}, ${e})`, `(${d} ${e}) > 1`, `[1 2]`, `count([1 2 3]) > 2`, `nth([3 4] 1)`, `is_finished('${t}' 1)`,
		`this.${d} > 1`, `this['${d}']`, `this.is_known('${d}')`, `this['is_known']('${d}')`, `this.${d}.length`,
		`${d}.includes(1)`, `${d}[0]`, `${d}['0']`, `${d}.length > 1`, `${d}.count`, `${d}.count()`, `${d}.constructor`,
		`now().diff(0, 'days') > 1`, `now().years() > 2000`, `now().diff(${d}, 'hours', true)`, `now().days()`,
		`now()['diff'](${d})`, `now().diff(0, 'months', true) > ${d}`, `${d}.days()`, `${d}.toFixed(1)`, `this`,
		`this.now`, `${d}.diff`, `${d}?.x`, `${d} == '0x1f'`, `${d} == ' 12 '`, `+'0b11' + ${d}`, `'Infinity' > ${d}`,
		`${d} ? this.${e} : now().hours()`, `is_known('${d}') && ${d}.length > 0`,
	];
}

function identifiers(p) {
	const ids = { data: [], tasks: [], cands: [] };
	const walk = (t) => {
		if (!t || typeof t !== 'object') return;
		if (typeof t.name === 'string') ids.tasks.push(t.name);
		for (const d of Array.isArray(t.dataDefinitions) ? t.dataDefinitions : []) if (d && typeof d.name === 'string') ids.data.push(d.name);
		for (const c of Array.isArray(t.candidates) ? t.candidates : []) if (c && typeof c.name === 'string') ids.cands.push(c.name);
		for (const s of Array.isArray(t.tasks) ? t.tasks : []) walk(s);
	};
	walk(p);
	return ids;
}

function slotsOf(j) {
	const slots = []; // [object, key]
	const walk = (o) => {
		if (Array.isArray(o)) o.forEach((v, k) => { slots.push([o, k]); walk(v); });
		else if (o && typeof o === 'object') for (const k of Object.keys(o)) { slots.push([o, k]); walk(o[k]); }
	};
	walk(j);
	return slots;
}
const objects = (j) => { const a = [j]; for (const [o, k] of slotsOf(j)) if (o[k] && typeof o[k] === 'object' && !Array.isArray(o[k])) a.push(o[k]); return a; };
const tasksOf = (j) => objects(j).filter((o) => typeof o.class === 'string' && ['Plan', 'Task', 'Action', 'Enquiry', 'Decision'].includes(o.class));
const shuffle = (a) => { for (let i = a.length - 1; i > 0; i--) { const k = r.int(0, i); [a[i], a[k]] = [a[k], a[i]]; } return a; };

// one mutation in place; returns a label (and may ask for duplicated keys in the text)
function mutate(j, out) {
	const slots = slotsOf(j);
	const objs = objects(j);
	const ids = identifiers(j);
	const kind = r.int(0, 13);
	const o = r.pick(objs);
	switch (kind) {
	case 0: { // drop an attribute
		const ks = Object.keys(o); if (!ks.length) return 'none';
		const k = r.pick(ks); delete o[k]; return `drop ${k}`;
	}
	case 1: { // add an attribute: known (on the wrong class, maybe) or unknown
		const k = r.chance(0.5) ? r.pick(ATTRS) : r.pick(['foo', 'x', 'Caption', 'name2', '_parent', 'path', 'state', 'toJSON', 'idx', 'value']);
		o[k] = clone(r.chance(0.5) ? r.pick(VALUES) : r.pick(exprPool(ids))); if (o[k] === undefined) delete o[k];
		return `add ${k}`;
	}
	case 2: { // retype a value
		if (!slots.length) return 'none';
		const [so, sk] = r.pick(slots); const v = clone(r.pick(VALUES));
		if (v === undefined) { if (Array.isArray(so)) so.splice(sk, 1); else delete so[sk]; } else so[sk] = v;
		return `retype ${sk}`;
	}
	case 3: case 4: { // an edge expression
		const named = objs.filter((x) => EXPR.some((k) => k in x));
		const x = named.length && r.chance(0.8) ? r.pick(named) : o;
		const ks = EXPR.filter((k) => k in x);
		const k = ks.length && r.chance(0.8) ? r.pick(ks) : r.pick(EXPR);
		x[k] = r.pick(exprPool(ids));
		if (rm.chance(0.2)) x[k] = rm.pick(memberPool(ids));
		return `expr ${k}`;
	}
	case 5: { // rename
		const named = objs.filter((x) => 'name' in x || 'type' in x);
		if (!named.length) return 'none';
		const x = r.pick(named); const k = 'name' in x ? 'name' : 'type';
		x[k] = clone(r.chance(0.3) ? r.pick([...ids.data, ...ids.tasks, ...ids.cands, 'zz']) : r.pick(NAMES));
		if (x[k] === null && r.chance(0.5)) delete x[k];
		return `rename ${k}`;
	}
	case 6: { // reorder keys and lists
		for (const x of objs) {
			const e = Object.entries(x); shuffle(e);
			for (const [k] of e) delete x[k];
			for (const [k, v] of e) x[k] = v;
		}
		for (const [so, sk] of slots) if (Array.isArray(so[sk]) && r.chance(0.5) && !['range', 'defaultValue'].includes(sk)) shuffle(so[sk]);
		return 'reorder';
	}
	case 7: { // duplicate a list element (same names twice)
		const lists = slots.filter(([so, sk]) => Array.isArray(so[sk]) && so[sk].length);
		if (!lists.length) return 'none';
		const [so, sk] = r.pick(lists); so[sk].push(clone(r.pick(so[sk]))); return `dup ${sk}`;
	}
	case 8: { // nest: wrap a task in a new plan, or nest deeply
		const ts = tasksOf(j).filter((t) => Array.isArray(t.tasks) && t.tasks.length);
		if (!ts.length) return 'none';
		const p = r.pick(ts); const i = r.int(0, p.tasks.length - 1);
		let inner = p.tasks[i];
		for (let d = r.chance(0.2) ? r.int(5, 40) : 1; d > 0; d--) inner = { class: 'Plan', name: `w${d}_${r.int(0, 999)}`, tasks: [inner] };
		p.tasks[i] = inner; return 'nest';
	}
	case 9: { // change a class
		const x = r.pick(objs.filter((y) => 'class' in y).concat([j]));
		x.class = r.pick(CLASSES); return `class ${x.class}`;
	}
	case 10: { // empty or drop lists, null entries
		const lists = slots.filter(([so, sk]) => Array.isArray(so[sk]));
		if (!lists.length) return 'none';
		const [so, sk] = r.pick(lists);
		const m = r.int(0, 3);
		if (m === 0) so[sk] = []; else if (m === 1) so[sk].push(r.pick([null, 1, 'a', [], {}])); else if (m === 2) so[sk] = null; else so[sk] = so[sk].slice(0, 1);
		return `list ${sk}`;
	}
	case 11: { // data definition corners: range, default, multiValued
		const defs = objs.filter((x) => ['Integer', 'Float', 'Text', 'Boolean', 'Date', 'DataDefinition'].includes(x.class));
		if (!defs.length) return 'none';
		const d = r.pick(defs); const k = r.pick(['range', 'defaultValue', 'multiValued', 'defaultCondition', 'valueCondition', 'warnings']);
		const pool = {
			range: [[], [1, 2], [1, 1], ['a', 'b'], [{ value: 1, caption: 'one' }], [{ value: 'a' }], [{ caption: 'x' }], [true, false], [1.5, '1.5'], 'abc', '', [[1]], [{ value: null }], [0], ['']],
			defaultValue: [0, 1, 2.5, '1', ' 2 ', '1e2', 'a', '', '[]', '[1]', '["a"]', 'true', true, false, [], [1], ['a'], null, '2020-01-05', '{}', 'null', '-0', 'NaN'],
			multiValued: [true, false, 1, 0, 'yes', '', [], null],
			defaultCondition: exprPool(ids), valueCondition: exprPool(ids),
			warnings: [[], [{ warnCondition: 'true', caption: 'w' }], [{ warnCondition: '' }], [{}], [{ class: 'Warning', warnCondition: `${d.name} > 1` }]],
		};
		d[k] = clone(r.pick(pool[k])); if (d[k] === null && r.chance(0.5)) delete d[k];
		return `data ${k}`;
	}
	case 12: { // duplicated keys in the text (JSON.parse keeps the last)
		const named = objs.filter((x) => Object.keys(x).length);
		if (!named.length) return 'none';
		const x = r.pick(named); const k = r.pick(Object.keys(x));
		out.dup = { obj: x, key: k, first: clone(r.pick(VALUES.filter((v) => v !== undefined))) };
		return `dupkey ${k}`;
	}
	default: { // flags and annotations with other JSON types
		const x = r.pick(objs);
		const k = r.pick(['optional', 'autonomous', 'cyclic', 'useDefaults', 'autoConfirmMostSupported', 'autoConfirmRecommended', 'caption', 'description', 'eventTrigger', 'meta', 'support']);
		x[k] = clone(r.pick([0, 1, '', 'false', 'x', [], [0], {}, null, true, false, 2, -1, 'a ${1}', '${', '${}', '${1+1}']));
		return `flag ${k}`;
	}
	}
}

// JSON text of j; with dup, the object gets the key twice (the first value then j's)
function text(j, dup) {
	if (!dup) return JSON.stringify(j);
	const mark = '@@dupkey@@';
	dup.obj[mark] = 0;
	const s = JSON.stringify(j);
	delete dup.obj[mark];
	return s.replace(`"${mark}":0`, `${JSON.stringify(dup.key)}:${JSON.stringify(dup.first)}`);
}

// a protocol as PROformajs keeps it: the attributes its classes read (its own toJSON drops
// the others, nulls and the defaults it fills in)
// (and as it reads them: of a range entry written as an object PROformajs reads the value and
// the caption only; an expression that is not a text, which it evaluates to undefined, must
// come back as the same JSON value)
const seen = (j) => {
	const p = JSON.parse(JSON.stringify(new Protocol[j.class](clone(j))));
	const walk = (o) => {
		if (Array.isArray(o)) { o.forEach(walk); return; }
		if (!o || typeof o !== 'object') return;
		for (const k of Object.keys(o)) {
			if (k === 'range' && Array.isArray(o[k]) && o[k].length === 0)
				o[k] = ['(an empty range: nothing allowed)']; // (norm drops empty lists)
			else if (k === 'range' && Array.isArray(o[k]))
				o[k] = o[k].map((e) => (e && typeof e === 'object' && !Array.isArray(e) ? Object.fromEntries(Object.entries(e).filter(([x]) => x === 'value' || x === 'caption')) : e));
			else walk(o[k]);
		}
	};
	walk(p);
	return p;
};

const cases = []; // {name, text, json}
bases.forEach((b, i) => cases.push({ name: `base/${i}`, text: JSON.stringify(b), json: b, label: 'base' }));
for (let i = 0; i < nmut; i++) {
	const j = clone(r.pick(bases));
	const out = {};
	const labels = [];
	for (let m = r.int(1, 3); m > 0; m--) labels.push(mutate(j, out));
	const t = text(j, out.dup);
	cases.push({ name: `mut/${seed}/${i}`, text: t, json: JSON.parse(t), label: labels.join(', ') });
}

// ---- LEBEN: one process for every case ---------------------------------------------------------
const lo = spawnSync(bin, ['--accept'], { input: cases.map((c) => c.text).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
if (lo.status !== 0) {
	say(`not ok 1 - ${bin} --accept failed (status ${lo.status}): ${(lo.stderr || '').slice(0, 2000)}`);
	process.exit(1);
}
const lines = lo.stdout.split('\n');

const bad = [];
const count = { valid: 0, invalid: 0, accepted: 0, refused: 0, same: 0, pfSame: 0, pfUnprintable: 0, exceptions: {}, run: 0, runSteps: 0, known: 0 };
const runnable = [];
const pathNames = (issue) => {
	const p = issue && typeof issue.path === 'string' ? issue.path.split(':') : [];
	return p.filter((x) => x && !/^\d+$/.test(x));
};
cases.forEach((c, i) => {
	const got = JSON.parse(lines[i] || '{"ok":false,"error":"no output"}');
	const v = validate(clone(c.json));
	const valid = v === 'valid';
	count[valid ? 'valid' : 'invalid']++;
	count[got.ok ? 'accepted' : 'refused']++;
	if (valid && !got.ok) {
		const ex = EXCEPTIONS.find(([re]) => re.test(got.error));
		if (ex) {
			count.exceptions[ex[1]] = (count.exceptions[ex[1]] || 0) + 1;
			if (flag('show-exceptions')) say(`# exception ${c.name} [${c.label}]: ${got.error}`);
			return;
		}
		bad.push({ c, why: 'PROformajs accepts it, LEBEN refuses it', detail: got.error });
		return;
	}
	if (!valid && got.ok) { bad.push({ c, why: 'PROformajs refuses it, LEBEN accepts it', detail: v }); return; }
	if (!valid) {
		// the refusal names the element: a name on PROformajs's error path, or a position
		let issue = null;
		try { issue = JSON.parse(v.slice('invalid '.length)); } catch (e) { /* a constructor's message */ }
		const names = pathNames(issue);
		// (a constructor's failure has no path: a quoted name or key of LEBEN's then)
		// (when the protocol has several faults, LEBEN may name another one than PROformajs's
		// first: a quoted name counts)
		const named = /protocol\.json:\d+:\d+/.test(got.error) || names.some((n) => got.error.includes(n)) ||
			/'[^']+'|"[^"]+"/.test(got.error);
		if (!named) bad.push({ c, why: 'LEBEN refuses it without naming the element', detail: `${got.error} | PROformajs: ${v}` });
		return;
	}
	const printed = JSON.parse(got.json);
	const d = diff(norm(seen(c.json)), norm(seen(printed)), '$');
	if (d) { bad.push({ c, why: 'JSON -> LEBEN -> JSON loses or changes an attribute', detail: d }); return; }
	count.same++;
	const v2 = validate(clone(printed));
	if (v2 !== 'valid') { bad.push({ c, why: "PROformajs refuses LEBEN's JSON print", detail: v2 }); return; }
	if (got.pf === 'same') count.pfSame++;
	else if (got.pf === 'unprintable') count.pfUnprintable++;
	else { bad.push({ c, why: 'JSON -> .pf -> JSON', detail: got.pf }); return; }
	runnable.push(c);
});

// JavaScript the .pf form lacks (bitwise operators, `**`, `??`, compound expressions, chained
// comparisons: docs/knowledge-language.md §4.2) in any of the protocol's expressions. Such
// mutants are accepted and round-trip above, but are left out of the run sample: `**` and `??`
// make PROformajs's evaluation throw, which LEBEN's does not yet reproduce, and leaving all of
// them out keeps the sample what it was before these were read (their runs are compared by
// test_knowledge_diff, whose generator writes them: proforma_lib.mjs jsOpsExpr)
const JS_ONLY_BIN = new Set(['&', '|', '^', '<<', '>>', '>>>', '**', '??']);
const CMP = new Set(['<', '>', '<=', '>=', '==', '!=', '===', '!==']);
function jsOnlySyntax(node) {
	if (!node || typeof node !== 'object') return false;
	if (node.type === 'Compound' || (node.type === 'UnaryExpression' && node.operator === '~')) return true;
	if (node.type === 'BinaryExpression' && (JS_ONLY_BIN.has(node.operator) ||
		(CMP.has(node.operator) && [node.left, node.right].some((x) => x && x.type === 'BinaryExpression' && CMP.has(x.operator)))))
		return true;
	return Object.values(node).some((v) => (Array.isArray(v) ? v.some(jsOnlySyntax) : jsOnlySyntax(v)));
}
function usesJsOnly(x, key) {
	if (typeof x === 'string' && key && key.endsWith('Condition')) {
		try { return jsOnlySyntax(jsParse(x)); } catch (e) { return false; }
	}
	if (Array.isArray(x)) return x.some((v) => usesJsOnly(v, key));
	if (x && typeof x === 'object') return Object.entries(x).some(([k, v]) => usesJsOnly(v, k));
	return false;
}

// ---- a sample of the accepted ones runs step by step as in PROformajs ---------------------------
const sample = runnable.filter((c) => c.name.startsWith('mut/') && !usesJsOnly(c.json)).slice(0, nrun);
const runs = [];
for (const c of sample) {
	let res;
	try {
		res = runOracle(c.json, { seed: seed + runs.length, maxSteps: 12 });
	} catch (e) {
		continue; // the harness's answer chooser reads list ranges only
	}
	if (res.invalid) continue;
	runs.push({ c, ops: res.ops, trace: res.trace });
}
if (runs.length) {
	const to = spawnSync(bin, ['--now', String(NOW_MS)], { input: runs.map((x) => JSON.stringify({ protocol: x.c.json, ops: x.ops })).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
	const tl = (to.stdout || '').split('\n');
	runs.forEach((x, i) => {
		const got = JSON.parse(tl[i] || '{"load_error":"no output"}');
		count.run++;
		count.runSteps += x.trace.length;
		const d = got.load_error ? { step: -1, field: 'load', oracle: 'accepted', leben: got.load_error } : firstDiff(x.trace, got.trace);
		if (d && known.has(JSON.stringify(x.c.json))) { count.known++; return; }
		if (d) bad.push({ c: x.c, ops: x.ops, why: `the run differs at step ${d.step} (${d.field})`, detail: `PROformajs ${JSON.stringify(d.oracle)} | LEBEN ${JSON.stringify(d.leben)}` });
	});
}

const ex = Object.entries(count.exceptions).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
say(`# seed ${seed}: ${cases.length} protocols (${bases.length} bases, ${nmut} mutants): PROformajs accepts ` +
	`${count.valid}, refuses ${count.invalid}; LEBEN accepts ${count.accepted}, refuses ${count.refused} ` +
	`(documented exceptions: ${ex}); ${count.same} round-trip JSON -> LEBEN -> JSON unchanged, ` +
	`${count.pfSame} also through .pf (${count.pfUnprintable} beyond the .pf form); ${count.run} run ` +
	`step by step (${count.runSteps} steps; ${count.known} differ as known regression cases of tests/data/proforma); ${bad.length} disagreements`);
for (const b of bad.slice(0, Number(opt('show', 30)))) {
	say(`# ${b.c.name} [${b.c.label}]: ${b.why}: ${String(b.detail).slice(0, 400)}`);
	if (flag('verbose')) say(`#   ${b.c.text.slice(0, 3000)}`);
}
if (save && bad.length) {
	mkdirSync(save, { recursive: true });
	for (const b of bad) {
		const f = join(save, `accept-${b.c.name.replace(/[/]/g, '-')}.json`);
		writeFileSync(f, JSON.stringify({ note: `${b.why} [${b.c.label}]`, protocol: b.c.json, ops: b.ops || [] }, null, 1) + '\n');
	}
	say(`# ${bad.length} kept in ${save}`);
}
if (tap) {
	const k = (w) => bad.filter((b) => b.why.startsWith(w)).length;
	say(`${k('PROformajs accepts') ? 'not ok' : 'ok'} 1 - LEBEN accepts the ${count.valid} protocols PROformajs accepts (but ${ex}) (${k('PROformajs accepts')} refused)`);
	say(`${k('PROformajs refuses') + k('LEBEN refuses it without') ? 'not ok' : 'ok'} 2 - LEBEN refuses the ${count.invalid} PROformajs refuses, naming the element (${k('PROformajs refuses')} accepted, ${k('LEBEN refuses it without')} unnamed)`);
	say(`${k('JSON') + k('PROformajs refuses LEBEN') ? 'not ok' : 'ok'} 3 - ${count.same} round-trip JSON -> LEBEN -> JSON without losing an attribute, ${count.pfSame} through .pf too (${k('JSON') + k('PROformajs refuses LEBEN')} differ)`);
	say(`${k('the run') ? 'not ok' : 'ok'} 4 - ${count.run} accepted mutants run step by step as in PROformajs (${k('the run')} differ)`);
	say('1..4');
}
process.exit(bad.length ? 1 : 0);
