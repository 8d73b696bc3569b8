// Differential testing of LEBEN's contract engine against the PROformajs reference engine
// (@openclinical/proformajs, used here only as a test oracle): a seeded generator of valid
// protocols, the oracle run that picks a random answer sequence as it goes, and the canonical
// step-by-step trace both engines print (build/tests/proforma_trace prints LEBEN's).
//
// Canonical trace: one object per step, step 0 being `start`:
//   {step, op, error, finished, tasks: {path: state}, completeable: [path],
//    requested: [source path], candidates: {path: [support, recommended, confirmed]},
//    data: {name: value}, versions: {name: n}, warnings: [path], triggers: [name]}
// Paths are PROformajs runtime paths ("plan:sub[1]:ask"); keys are in the engines' state order.
import { Protocol as P, Enactment } from '@openclinical/proformajs';

// ---- seeded PRNG (mulberry32) ----------------------------------------------------------------
export function rng(seed) {
	let a = seed >>> 0;
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const r = {
		f: next,
		int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
		pick: (arr) => arr[Math.floor(next() * arr.length)],
		chance: (p) => next() < p,
	};
	return r;
}

// ---- generator --------------------------------------------------------------------------------
// Features the LEBEN side reads correctly so far; widened as the JSON reader learns more.
export const FEATURES = {
	derived: true,      // valueCondition = derived value
	numericRange: true, // range on Integer/Float = allowed values
	netSupport1: true,  // net_support('candidate')
	cyclic: true,       // cyclic + cycleUntil
	triggers: true,     // eventTrigger
	autoConfirm: true,  // autoConfirmRecommended / autoConfirmMostSupported
	warnings: true,     // data definition warnings (warnCondition)
	rangeCaptions: true, // range items {value, caption}
	multi: true,        // multiValued items (sets)
	unguarded: true,    // conditions over unset items (JavaScript: undefined > 3 is false)
	plainTask: true,    // class "Task"
	defaults: true,     // defaultValue, defaultCondition, enquiry useDefaults
	taskData: true,     // dataDefinitions of a sub-plan (visible to it and its descendants)
	cyclicRoot: true,   // the protocol itself repeats
	lax: true,          // what PROformajs accepts beyond LEBEN's .pf rules (laxen below)
	dates: true,        // a Date item, its defaults, now() and date arithmetic (dated below)
	dupnames: true,     // a data name defined in several tasks (duplicated below)
	jsops: true,        // JavaScript the .pf form lacks: bitwise operators, compound
	                    // expressions, chained comparisons (jsOps below)
	loose: true,        // what PROformajs lets through its validation: calls with fewer or
	                    // more arguments, LEBEN's keys naming what is missing (loosen below)
	times: true,        // last_updated() and the *_time() functions, read as the clock
	                    // moves on between operations (timed below)
	members: true,      // JavaScript's member access and `this`, sequences, blank-separated
	                    // lists, texts as numbers (members below)
	thisAlone: true,    // `this` alone: PROformajs's evaluator object (thisAlone below)
	nulls: true,        // JavaScript's null (result_of() of a task that is not a decision),
	                    // the top-level task's state object, an item's own list as a derived
	                    // value (nullish below)
};

// The fixed clock both engines read in the differential test (now(), Date defaults without a
// day): Date.now stubbed here, `proforma_trace --now` on LEBEN's side; times in UTC.
export const NOW_MS = Date.UTC(2026, 2, 15, 13, 45, 30, 250);
// (`new Date()` too: PROformajs stamps its audit and every stored value with it, which
// last_updated() and the *_time() functions read; an operation with `at` moves the clock,
// setClock, before it runs: `proforma_trace` does the same)
let clockMs = NOW_MS;
export function setClock(ms) { clockMs = ms; }
export function fixClock() {
	process.env.TZ = 'UTC';
	const RealDate = Date;
	if (RealDate.fixed) return;
	const FixedDate = class Date extends RealDate {
		constructor(...a) { if (a.length === 0) super(clockMs); else super(...a); }
		static now() { return clockMs; }
	};
	FixedDate.fixed = true;
	globalThis.Date = FixedDate;
}

const TEXTS = ['low', 'mid', 'high', 'none', 'some'];

function genData(r, feat) {
	const defs = [];
	const n = r.int(2, 5);
	for (let i = 0; i < n; i++) {
		const name = `d${i}`;
		const kind = r.pick(['Boolean', 'Integer', 'Integer', 'Text', 'Float']);
		const d = { class: kind, name, caption: `item ${i}` };
		if (kind === 'Text') {
			const k = r.int(2, 4);
			const vals = TEXTS.slice(0, k).map((v) => `${v}${i}`);
			d.range = !feat.rangeCaptions || r.chance(0.5) ? vals : vals.map((v) => ({ value: v, caption: `the ${v}` }));
		} else if (kind === 'Integer' && feat.numericRange && r.chance(0.4)) {
			d.range = [0, 1, 2, 3, 4, 5];
		}
		if (kind === 'Text' && feat.multi && r.chance(0.3)) d.multiValued = true;
		if (feat.defaults && r.chance(0.3)) {
			const vals = d.range ? d.range.map((v) => (v.value !== undefined ? v.value : v)) : null;
			if (d.multiValued) d.defaultValue = vals.slice(0, 1);
			else if (r.chance(0.6)) d.defaultValue = vals ? r.pick(vals) : kind === 'Boolean' ? true : kind === 'Float' ? 1.5 : 2;
			else if (kind === 'Integer' || kind === 'Float') d.defaultCondition = i > 0 ? `d0 === true ? 4 : 1` : '3';
			else if (kind === 'Boolean') d.defaultCondition = 'true';
		}
		if (feat.warnings && kind !== 'Boolean' && kind !== 'Text' && r.chance(0.3))
			d.warnings = [{ class: 'Warning', caption: 'high', warnCondition: `is_known('${name}') && ${name} > 3` }];
		defs.push(d);
	}
	if (feat.derived) {
		const nd = r.int(0, 2);
		for (let j = 0; j < nd; j++) {
			const src = defs.filter((d) => !d.valueCondition && (d.class === 'Integer' || d.class === 'Float'));
			const name = `v${j}`;
			if (src.length === 0)
				break;
			const a = r.pick(src).name;
			const form = r.int(0, 2);
			if (form === 0)
				defs.push({ class: 'Integer', name, caption: 'score', valueCondition: `is_known('${a}') ? ${a} * 2 + 1 : 0` });
			else if (form === 1)
				defs.push({ class: 'Boolean', name, caption: 'flag', valueCondition: `is_known('${a}') && ${a} >= 2` });
			else
				defs.push({ class: 'Text', name, caption: 'band', range: ['lo', 'hi'], valueCondition: `is_known('${a}') && ${a} > 2 ? 'hi' : 'lo'` });
		}
	}
	return defs;
}

// An atom that is true or false (never unknown), so three-valued and JavaScript logic agree.
function atom(r, ctx, neg) {
	const opts = [];
	for (const d of ctx.data) {
		const x = d.name;
		if (d.valueCondition) {
			if (d.class === 'Integer') opts.push(`${x} > ${r.int(0, 6)}`);
			else if (d.class === 'Boolean') opts.push(`${x}`, `${x} == true`);
			else opts.push(`${x} == 'hi'`);
			continue;
		}
		if (d.multiValued) {
			const vals = d.range.map((v) => (v.value !== undefined ? v.value : v));
			opts.push(`includes(${x}, '${r.pick(vals)}')`, `count(${x}) ${r.pick(['>', '==', '<'])} ${r.int(0, 2)}`);
			continue;
		}
		if (ctx.feat.unguarded && r.chance(0.4)) {
			if (d.class === 'Boolean') opts.push(`${x}`, `!${x}`, `${x} == false`);
			else if (d.class === 'Text') {
				const vals = d.range.map((v) => (v.value !== undefined ? v.value : v));
				opts.push(`${x} ${r.pick(['==', '!=', '===', '!=='])} '${r.pick(vals)}'`);
			} else opts.push(`${x} ${r.pick(['>', '>=', '<', '<=', '==', '!='])} ${r.int(0, 5)}`,
				`is_known('${x}') && ${x}`, // a number as a condition: its truth counts

				`${x} ${r.pick(['+', '*', '-'])} ${r.int(1, 3)} > ${r.int(0, 8)}`,
				`${x} < 12345678901234567890 - 1`); // a literal beyond 2^53
		}
		if (d.class === 'Boolean') opts.push(`is_known('${x}') && ${x}`, `is_known('${x}') && ${x} == false`);
		else if (d.class === 'Integer' || d.class === 'Float')
			opts.push(`is_known('${x}') && ${x} ${r.pick(['>', '>=', '<', '<=', '==', '!='])} ${r.int(0, 5)}`);
		else {
			const vals = d.range.map((v) => (v.value !== undefined ? v.value : v));
			opts.push(`is_known('${x}') && ${x} ${r.pick(['==', '!='])} '${r.pick(vals)}'`);
		}
		opts.push(`is_known('${x}')`);
	}
	for (const s of ctx.siblings)
		opts.push(`${r.pick(['is_finished', 'is_completed', 'is_discarded'])}('${s.name}')`);
	for (const s of ctx.siblings)
		if (s.class === 'Decision' && s.candidates.length) {
			const c = r.pick(s.candidates).name;
			opts.push(`includes(result_set('${s.name}'), '${c}')`);
			// with several candidates confirmed, result_of is a list, and `list == 'c'` is
			// false in PROformajs but unknown in LEBEN: not under a negation (known
			// disagreement, tests/data/proforma/gen-20261206-2906.json)
			if (!neg) opts.push(`is_completed('${s.name}') && result_of('${s.name}') == '${c}'`);
		}
	// now and then a task that is not a sibling: PROformajs resolves names relative to the
	// evaluating component and fails on it (LEBEN reproduces the failure)
	if (ctx.wild && ALL.length && r.chance(0.1)) opts.push(`is_finished('${r.pick(ALL).name}')`);
	if (ctx.cands && ctx.feat.netSupport1)
		for (const c of ctx.cands) opts.push(`net_support('${c}') ${r.pick(['>=', '>', '<'])} ${r.int(-1, 2)}`);
	return opts.length ? r.pick(opts) : 'true';
}

function condition(r, ctx) {
	const neg = r.chance(0.25);
	let e = atom(r, ctx, neg);
	const k = r.int(0, 2);
	for (let i = 0; i < k; i++) {
		const b = atom(r, ctx, neg);
		e = r.chance(0.5) ? `(${e}) && (${b})` : `(${e}) || (${b})`;
	}
	return neg ? `!(${e})` : e;
}

let uniq = 0;
let ALL = []; // tasks generated so far in the current protocol
function genTask(r, ctx, depth, siblings) {
	const kinds = depth < 3 ? ['Action', 'Enquiry', 'Decision', 'Plan'] : ['Action', 'Enquiry', 'Decision'];
	let cls = r.pick(kinds);
	if (cls === 'Action' && ctx.feat.plainTask && r.chance(0.2)) cls = 'Task';
	const t = { class: cls, name: `t${uniq++}`, caption: `task ${uniq}` };
	ALL.push(t);
	// naming a task of a repetition that restarts makes PROformajs fail in that cycle (its
	// snapshot lacks the new instance); LEBEN reproduces it, and some protocols avoid it
	siblings = ctx.inCyclic ? [] : siblings;
	const c = { ...ctx, siblings, cands: null };
	if (r.chance(0.5)) t.autonomous = true;
	if (siblings.length && r.chance(0.6)) t.waitCondition = `is_finished('${r.pick(siblings).name}')`;
	else if (r.chance(0.2)) t.waitCondition = condition(r, c);
	if (r.chance(0.3)) t.preCondition = condition(r, c);
	if (r.chance(0.15)) t.optional = true;
	if (ctx.feat.triggers && r.chance(0.12)) t.eventTrigger = r.pick(['alarm', 'review']);
	const cyclic = ctx.feat.cyclic && r.chance(0.15) && !t.eventTrigger;
	const inner = cyclic && r.chance(0.5) ? { ...ctx, inCyclic: true } : ctx;
	if (!cyclic && r.chance(0.12)) t.abortCondition = condition(r, c);
	if (!cyclic && r.chance(0.1)) t.terminateCondition = condition(r, c);
	if (cls === 'Enquiry') {
		if (ctx.feat.defaults && r.chance(0.3)) t.useDefaults = true;
		const srcs = ctx.data.filter((d) => !d.valueCondition);
		const n = r.int(1, Math.min(3, srcs.length));
		const chosen = [...srcs].sort(() => r.f() - 0.5).slice(0, n);
		t.sources = chosen.map((d) => {
			const s = { class: 'Source', type: d.name };
			if (r.chance(0.7)) s.requestCondition = r.chance(0.7) ? `!is_known('${d.name}')` : condition(r, { ...c, siblings: [] });
			return s;
		});
	} else if (cls === 'Decision') {
		const n = r.int(1, 3);
		const names = [];
		for (let i = 0; i < n; i++) names.push(`c${uniq++}`);
		t.candidates = names.map((nm) => {
			const cc = { ...c, siblings: [], cands: names };
			const cand = { class: 'Candidate', name: nm, caption: `option ${nm}` };
			const na = r.int(0, 2);
			if (na) cand.arguments = [];
			for (let a = 0; a < na; a++)
				cand.arguments.push({ class: 'Argument', caption: `because ${a}`,
					support: r.pick(['+', '-', '+', 2, -0.5, ...(r.chance(0.2) ? ['++', '--'] : [])]),
					activeCondition: condition(r, { ...c, siblings: [], cands: null }) });
			cand.recommendCondition = ctx.feat.netSupport1 && r.chance(0.6)
				? `net_support('${nm}') >= 1` : condition(r, cc);
			if (ctx.feat.autoConfirm && r.chance(0.15)) cand.autoConfirmRecommended = true;
			return cand;
		});
		if (ctx.feat.autoConfirm && r.chance(0.1)) t.autoConfirmMostSupported = true;
	} else if (cls === 'Plan') {
		t.tasks = [];
		let sub = inner;
		if (ctx.feat.taskData && !cyclic && r.chance(0.25)) {
			const own = { class: r.pick(['Integer', 'Boolean']), name: `e${uniq++}`, caption: 'local item' };
			if (r.chance(0.3)) own.defaultValue = own.class === 'Integer' ? 1 : false;
			t.dataDefinitions = [own];
			sub = { ...inner, data: [...inner.data, own] };
		}
		const n = r.int(1, 3);
		for (let i = 0; i < n; i++) t.tasks.push(genTask(r, sub, depth + 1, t.tasks.slice()));
		// an autonomous cyclic plan with only optional tasks is refused by PROformajs
		if (t.tasks.every((x) => x.optional)) delete t.tasks[0].optional;
	}
	if (cyclic) {
		// repetition needs a user step in each round, else it never settles
		const userStep = (x) => !x.eventTrigger && !x.preCondition && !x.abortCondition &&
			!x.terminateCondition && !x.cyclic && (x.class !== 'Plan' ? !x.autonomous :
			x.tasks.some((y) => !y.optional && userStep(y)));
		if (userStep({ ...t, cyclic: false })) {
			t.cyclic = true;
			if (r.chance(0.8)) t.cycleUntil = condition(r, c);
		}
	}
	return t;
}

// What PROformajs accepts that LEBEN's .pf form does not hold, laid over a generated protocol
// with a PRNG of its own (the protocol underneath stays the one the seed gives): task names
// starting with a digit, fractions in Integer items (a default, range values the answers
// pick), captions that are lists, defaults written as JSON text, ranges mixing plain values
// and {value, caption} objects, and now and then a protocol that is an Enquiry alone.
function laxen(root, seed) {
	const r = rng(seed ^ 0x5eed1a);
	let json = JSON.stringify(root);
	if (r.chance(0.3)) {
		// a task of a sub-plan takes the name of a task elsewhere (PROformajs wants names
		// unique among a plan's components only, and finds a name from where it is used)
		const tasks = []; // [task, parent]
		const walk = (t, parent) => { tasks.push([t, parent]); for (const c of t.tasks || []) walk(c, t); };
		walk(root, null);
		const inner = tasks.filter(([t, p]) => p && p !== root && /^t[0-9]+$/.test(t.name));
		if (inner.length) {
			const [x, xp] = r.pick(inner);
			const others = tasks.filter(([t, p]) => p && p !== xp && t !== xp && !(x.tasks || []).includes(t) &&
				!xp.tasks.some((s) => s.name === t.name) && !(x.tasks || []).some((s) => s.name === t.name));
			if (others.length) {
				const y = r.pick(others)[0].name;
				json = json.replace(new RegExp(`(["'])${x.name}\\1`, 'g'), `$1${y}$1`);
			}
		}
	}
	if (r.chance(0.3)) {
		// tasks tN -> 9tN: named in expressions as 'tN', in the JSON as "tN"
		const names = [...new Set(json.match(/"name":"t[0-9]+"/g) || [])].map((x) => x.slice(8, -1));
		for (const nm of names.filter(() => r.chance(0.5)))
			json = json.replace(new RegExp(`(["'])${nm}\\1`, 'g'), `$1${nm.replace('t', '9t')}$1`);
	}
	const p = JSON.parse(json);
	for (const d of p.dataDefinitions || []) {
		if (d.class !== 'Integer' || d.valueCondition || !r.chance(0.3)) continue;
		if (Array.isArray(d.range) && typeof d.range[0] === 'number') {
			d.range = [0, 0.5, 1, 2.5, 4];
			if (d.defaultValue !== undefined) d.defaultValue = 2.5;
		} else if (!d.range && d.defaultValue === undefined && !d.defaultCondition) {
			d.defaultValue = 2.5;
		}
	}
	// with a PRNG of their own (the stream above stays as it was): defaults written as JSON
	// text ("3", "true", "[1,2]"), which PROformajs parses, and ranges mixing plain values
	// with {value, caption} objects (each entry written the other way repeats a value)
	const r2 = rng(seed ^ 0x7e47da);
	for (const d of p.dataDefinitions || []) {
		if (d.defaultValue !== undefined && d.class !== 'Date' && d.class !== 'Text' && r2.chance(0.2))
			d.defaultValue = JSON.stringify(d.defaultValue);
		if (Array.isArray(d.range) && d.range.length && r2.chance(0.2)) {
			const first = d.range[0];
			if (first && typeof first === 'object') d.range.push(first.value);
			else d.range.splice(1, 0, { value: first, caption: `also ${first}` });
		}
	}
	// dynamic captions and descriptions ("${item}") on tasks, candidates and arguments
	const items = (p.dataDefinitions || []).map((d) => d.name);
	const dyn = (o, what) => {
		if (!items.length || !r2.chance(0.12)) return;
		const x = r2.pick(items);
		const k = r2.chance(0.7) ? 'caption' : 'description';
		o[k] = r2.chance(0.8) ? `${what} \${${x}}` : `\${${x}} or \${is_known('${x}')}`;
		// the reference's /\$\{([^$]*)\}/g: an expression runs to the last '}' before the next
		// '$' (a brace inside a string), each match replaced at its first occurrence; number
		// literals of 16 and more digits ("}}", which makes every cycle throw, is left to the
		// regression case hand-caption-js.json)
		if (r2.chance(0.25))
			o[k] = r2.pick([`\${is_known('${x}') ? '{${x}}' : '}'} of $5`, `\${${x}}\${${x}} $\${${x}}`,
				`\${12345678901234567890 + 1} \${${x}} \${1e400}`, `\${ 'a$' } \${${x}`]);
	};
	const walkDyn = (t) => {
		dyn(t, t.name);
		for (const c of t.candidates || []) { dyn(c, c.name); for (const a of c.arguments || []) dyn(a, 'arg'); }
		for (const c of t.tasks || []) walkDyn(c);
	};
	walkDyn(p);
	const walk = (t) => {
		if (r.chance(0.1)) t.caption = [t.caption || t.name, 'list caption'];
		// an eventTrigger that is not a text: PROformajs keys it by String() of it
		if (t.eventTrigger && r.chance(0.3)) t.eventTrigger = r.chance(0.5) ? [t.eventTrigger] : 7;
		for (const c of t.tasks || []) walk(c);
	};
	walk(p);
	if (r.chance(0.05)) {
		// an Enquiry alone: the protocol's items, each asked (without warnings: an item's
		// warning under an Enquiry that asks for it makes PROformajs fail, its source
		// shadowing the item in getComponent; LEBEN runs it; docs/knowledge-language.md §5.3)
		const srcs = (p.dataDefinitions || []).filter((d) => !d.valueCondition);
		for (const d of p.dataDefinitions || []) delete d.warnings;
		if (srcs.length)
			return { class: 'Enquiry', name: 'q0', caption: 'an enquiry alone', dataDefinitions: p.dataDefinitions,
				sources: srcs.map((d) => ({ class: 'Source', type: d.name })) };
	}
	return p;
}

export function generate(seed, feat = FEATURES) {
	const root = generateStrict(seed, feat);
	const p = feat.lax ? laxen(root, seed) : root;
	const q = feat.dates ? dated(p, seed) : p;
	const d = feat.dupnames ? duplicated(q, seed) : q;
	const j = feat.jsops ? jsOps(d, seed) : d;
	const l = feat.loose ? loosen(j, seed) : j;
	const m = feat.times ? timed(l, seed) : l;
	const n = feat.members ? members(m, seed) : m;
	const o = feat.thisAlone ? thisAlone(n, seed) : n;
	return feat.nulls ? nullish(o, seed) : o;
}

// ---- times: last_updated() and the *_time() functions ----------------------------------------
// PROformajs answers them from its audit and its stored values: the time (a moment) of the
// first audited update of the task's latest instance to that state, of the last value stored
// under the first task path holding the name (an unset and a derived value count), undefined
// before; a task named by anything but its design path from the root ('p0:t2') is looked up
// in the audit as written and never found. Laid over 30% of the protocols with a PRNG of its
// own: derived items of ms elapsed since such a time (or -1), and wait/pre/abort conditions
// comparing times with now() and with each other, naming tasks by path and by name; the run
// moves the clock a minute on at each operation (runOracle: `at`).
function timed(p, seed) {
	const r = rng(seed ^ 0x7133e5);
	if (!r.chance(0.3) || p.class !== 'Plan' || !Array.isArray(p.dataDefinitions) || typeof p.name !== 'string') return p;
	const tasks = []; // [task, design path]
	const walk = (t, path) => { for (const c of t.tasks || []) if (typeof c.name === 'string') { tasks.push([c, `${path}:${c.name}`]); walk(c, `${path}:${c.name}`); } };
	walk(p, p.name);
	const items = p.dataDefinitions.filter((d) => typeof d.name === 'string' && /^[a-z]\w*$/.test(d.name) && d.class !== 'Date');
	if (!tasks.length || !items.length) return p;
	const fns = ['in_progress_time', 'completed_time', 'discarded_time', 'finished_time'];
	// a task by its design path (mostly), by its name, or the root by its name
	const task = () => {
		const [t, path] = r.pick(tasks);
		return r.chance(0.75) ? path : r.chance(0.7) ? t.name : p.name;
	};
	const time = () => r.chance(0.35) ? `last_updated('${r.pick(items).name}')` : `${r.pick(fns)}('${task()}')`;
	const since = (x) => `${x} ? now() - ${x} : -1`;
	for (let i = 0, n = r.int(1, 3); i < n; i++) {
		const x = time();
		const form = r.int(0, 2);
		const vc = form === 0 ? since(x) : form === 1 ? `${x} ? ${x} - ${NOW_MS} : -1` : `${x} > ${NOW_MS + 60000 * r.int(0, 4)}`;
		p.dataDefinitions.push({ class: form === 2 ? 'Boolean' : 'Integer', name: `tm${i}`, caption: 'elapsed', valueCondition: vc });
	}
	const conds = [() => { const x = time(); return `${x} && now() - ${x} >= ${60000 * r.int(1, 3)}`; },
		() => `${time()} > ${time()}`, () => `${time()} < now()`, () => `!${time()}`];
	for (const [t] of tasks) {
		if (!r.chance(0.3)) continue;
		const k = r.pick(['waitCondition', 'preCondition', 'abortCondition']);
		const c = r.pick(conds)();
		// (a condition already there is kept: it may be a compound, `a, b`, which PROformajs
		// cannot evaluate in parentheses)
		if (t[k] === undefined) t[k] = c;
	}
	return p;
}

// ---- dupnames: a data name defined in several tasks --------------------------------------------
// PROformajs accepts a name defined by several tasks (once per task): a task sees the
// outermost definition of it (set, unset, sources, is_known's check), every definition it sees
// gets its default from an enquiry asking for the name, values are kept per task path
// (a derived one under the runtime path of its task, "p0:t3[1]"), and a bare name (is_known
// too) reads the last path first stored under that holds a value. Laid over a third of the
// protocols with a PRNG of their own (the protocol underneath stays the one the seed gives):
// (a) a sub-plan, cyclic ones included, redefines a top-level item, as a derived item or with
// a default asked by an enquiry of its own (useDefaults), sometimes with a warning; (b) two
// enquiries define and ask for the same new name (of the same or another class), with
// defaults and conditions over it; (c) a cyclic task redefines a top-level item as a derived
// one (a value under each repetition's path).
function duplicated(p, seed) {
	const r = rng(seed ^ 0xd0b1e5);
	if (!r.chance(0.35) || p.class !== 'Plan') return p;
	const tasks = []; // [task, parent]
	const walk = (t, parent) => { tasks.push([t, parent]); for (const c of t.tasks || []) walk(c, t); };
	walk(p, null);
	const top = (p.dataDefinitions || []).filter((d) => !d.valueCondition && !d.multiValued &&
		['Integer', 'Float', 'Boolean', 'Text'].includes(d.class) && /^d[0-9]+$/.test(d.name));
	const rangeVals = (d) => (d.range || []).map((v) => (v && v.value !== undefined ? v.value : v));
	const defines = (t, nm) => (t.dataDefinitions || []).some((d) => d.name === nm);
	const asks = (t, nm) => (t.sources || []).some((s) => s.type === nm);
	let k = 0;
	// a derived value of item d's class computed from another top-level item o
	const derivedOf = (d, o) => {
		const num = o.class === 'Integer' || o.class === 'Float';
		const known = `is_known('${o.name}')`;
		if (d.class === 'Boolean') return num ? `${known} && ${o.name} >= 2` : known;
		if (d.class === 'Text') {
			const v = rangeVals(d);
			return `${known} ? '${v[v.length - 1]}' : '${v[0]}'`;
		}
		return num ? `${known} ? ${o.name} + ${r.int(1, 3)} : ${r.int(0, 2)}` : `${known} ? 4 : 1`;
	};
	const defaultOf = (d) => {
		const v = rangeVals(d);
		if (v.length) return r.pick(v);
		return d.class === 'Boolean' ? r.chance(0.5) : d.class === 'Float' ? 2.5 : d.class === 'Text' ? 'free' : r.int(0, 5);
	};
	// (a) a sub-plan redefines a top-level item
	const plans = tasks.filter(([t, parent]) => parent && t.class === 'Plan');
	if (top.length && plans.length && r.chance(0.7)) {
		const [S] = r.pick(plans);
		const d = r.pick(top);
		if (!defines(S, d.name)) {
			const inner = { class: d.class, name: d.name, caption: `inner ${d.name}` };
			if (d.range) inner.range = JSON.parse(JSON.stringify(d.range));
			const others = top.filter((o) => o !== d);
			if (others.length && r.chance(0.5)) {
				inner.valueCondition = derivedOf(inner, r.pick(others));
			} else {
				if (r.chance(0.8)) inner.defaultValue = defaultOf(inner);
				else if (inner.class === 'Integer' || inner.class === 'Float') inner.defaultCondition = `is_known('${d.name}') ? 5 : 3`;
				else inner.defaultValue = defaultOf(inner);
				// an enquiry of the sub-plan asks for the name (the top-level item) with defaults
				const q = { class: 'Enquiry', name: `dq${k++}`, caption: 'asks the inner item', useDefaults: true,
					sources: [{ class: 'Source', type: d.name }] };
				if (r.chance(0.5)) q.autonomous = true;
				if (r.chance(0.4)) q.sources[0].requestCondition = `!is_known('${d.name}')`;
				S.tasks.push(q);
			}
			if ((inner.class === 'Integer' || inner.class === 'Float') && r.chance(0.3))
				inner.warnings = [{ class: 'Warning', caption: 'inner high', warnCondition: `is_known('${d.name}') && ${d.name} > 3` }];
			S.dataDefinitions = [...(S.dataDefinitions || []), inner];
		}
	}
	// (b) two enquiries define and ask for the same new name
	const enqs = tasks.filter(([t]) => t.class === 'Enquiry' && !(t.dataDefinitions || []).length).map(([t]) => t);
	if (enqs.length >= 2 && r.chance(0.6)) {
		const nm = `w${k++}`;
		const pair = [...enqs].sort(() => r.f() - 0.5).slice(0, 2);
		const cls0 = r.pick(['Integer', 'Integer', 'Text', 'Boolean']);
		pair.forEach((E, i) => {
			const cls = i && r.chance(0.2) ? r.pick(['Integer', 'Text', 'Boolean']) : cls0;
			const w = { class: cls, name: nm, caption: `shared ${i}` };
			if (cls === 'Text') w.range = ['a', 'b'];
			else if (cls === 'Integer' && r.chance(0.5)) w.range = [0, 1, 2, 3];
			if (r.chance(0.35)) { w.defaultValue = defaultOf(w); E.useDefaults = true; }
			// (no warning: PROformajs cannot find one on an item its enquiry also asks for,
			// docs/knowledge-language.md §5.3)
			E.dataDefinitions = [w];
			const src = { class: 'Source', type: nm };
			if (r.chance(0.5)) src.requestCondition = `!is_known('${nm}')`;
			E.sources = [...(E.sources || []), src];
			if (i === 1 && r.chance(0.5)) {
				const a = r.pick([`!is_known('${nm}')`, `is_known('${nm}')`, `${nm} == ${JSON.stringify(defaultOf(w))}`]);
				const where = r.pick(['preCondition', 'waitCondition']);
				E[where] = E[where] ? `(${E[where]}) || (${a})` : a;
			}
		});
	}
	// (c) a cyclic task redefines a top-level item as a derived one
	const cyc = tasks.filter(([t, parent]) => parent && t.cyclic).map(([t]) => t);
	if (top.length >= 2 && cyc.length && r.chance(0.7)) {
		const C = r.pick(cyc);
		const d = r.pick(top);
		if (!defines(C, d.name) && !asks(C, d.name)) {
			const inner = { class: d.class, name: d.name, caption: `per cycle ${d.name}` };
			if (d.range) inner.range = JSON.parse(JSON.stringify(d.range));
			inner.valueCondition = derivedOf(inner, r.pick(top.filter((o) => o !== d)));
			C.dataDefinitions = [...(C.dataDefinitions || []), inner];
		}
	}
	return p;
}

// A Date item laid over half the protocols, with a PRNG of its own: its defaultValue in one
// of moment.js's spellings (times and offsets included; "Z" alone is today, from the clock)
// or a defaultCondition (now(); a number, which Date.accept refuses), asked by an Enquiry
// (with defaults), read by conditions against now() and in date arithmetic (milliseconds),
// and by derived items (a number of ms; a text with the date's String()).
const DATE_DEFAULTS = ['2026-03-10', '2026-03-15T20:00:00.000Z', '2026-03-16T01:00+02:00',
	'2026/3/14 09:30', '2026-03-15T13:45:30.100Z', 'Z', '2026-03-15T13:45:30.400+00:00', 20260301];
function dated(p, seed) {
	const r = rng(seed ^ 0xda7e5);
	if (!r.chance(0.5)) return p;
	const d = { class: 'Date', name: 'dt0', caption: 'a date' };
	const k = r.f();
	if (k < 0.5) d.defaultValue = r.pick(DATE_DEFAULTS);
	else if (k < 0.75) d.defaultCondition = r.pick(['now()', 'now()', 'now() - 86400000']);
	p.dataDefinitions = [...(p.dataDefinitions || []), d];
	const atoms = [`is_known('dt0') && dt0 < now()`, `is_known('dt0') && now() - dt0 > ${r.int(0, 6)} * 86400000`,
		`is_known('dt0') && dt0 + ${r.int(1, 30)} * 3600000 > now()`, `dt0 >= now()`, `is_known('dt0') && dt0`,
		`is_known('dt0') && date_part_hour('dt0') >= 12`, `now() > 1773532800000`, `is_known('dt0') && dt0 == ${NOW_MS}`];
	const tasks = [];
	const walk = (t) => { tasks.push(t); for (const c of t.tasks || []) walk(c); };
	walk(p);
	const enq = tasks.filter((t) => t.class === 'Enquiry' && !(t.dataDefinitions || []).length);
	if (enq.length) {
		const q = r.pick(enq);
		q.sources = [...(q.sources || []), { class: 'Source', type: 'dt0' }];
		if (r.chance(0.7)) q.useDefaults = true;
	}
	for (const t of tasks.filter((x) => x !== p)) {
		if (!r.chance(0.4)) continue;
		const a = r.pick(atoms);
		const where = r.pick(['preCondition', 'waitCondition', 'rec']);
		if (where === 'rec' && t.candidates && t.candidates.length) {
			const c = r.pick(t.candidates);
			c.recommendCondition = `(${c.recommendCondition || 'false'}) || (${a})`;
		} else if (where !== 'rec') {
			t[where] = t[where] ? `(${t[where]}) ${r.pick(['&&', '||'])} (${a})` : a;
		}
	}
	// a caption rendering the date: String() of a moment object
	if (r.chance(0.3)) r.pick(tasks).description = r.chance(0.5) ? 'due ${dt0}' : '${now()} ${dt0 - 1}';
	if (r.chance(0.5)) p.dataDefinitions.push({ class: 'Integer', name: 'vd0', caption: 'age in ms',
		valueCondition: r.pick([`is_known('dt0') ? now() - dt0 : 0`, `is_known('dt0') ? dt0 + 1 : -1`]) });
	if (r.chance(0.4)) p.dataDefinitions.push({ class: 'Text', name: 'vd1', caption: 'when',
		valueCondition: `is_known('dt0') ? dt0 + 'dt0' : 'dt0'` }); // (a text literal must name something)
	return p;
}

// ---- jsops: JavaScript the .pf form lacks ----------------------------------------------------
// Laid over 40% of the protocols with a PRNG of its own: derived items and conditions using
// the bitwise operators (& | ^ ~ << >> >>>: ToInt32 of any value, undefined and NaN are 0),
// compound expressions (`a, b`, `a; b`: the last one's value; only as a whole expression, since
// PROformajs cannot evaluate one in parentheses) and chained comparisons (`n > 1 > 0` is
// `(n > 1) > 0`, true and false as 1 and 0), over set and unset items alike. (`**` and `??` are
// not generated: PROformajs's evaluator throws on them, which LEBEN does not reproduce yet.)
function jsOps(p, seed) {
	const r = rng(seed ^ 0xb17b17);
	if (!r.chance(0.4) || !Array.isArray(p.dataDefinitions)) return p;
	const nums = p.dataDefinitions.filter((d) => !d.valueCondition && (d.class === 'Integer' || d.class === 'Float'));
	const any = p.dataDefinitions.filter((d) => !d.valueCondition && typeof d.name === 'string' && /^[a-z]\w*$/.test(d.name));
	if (!nums.length || !any.length) return p;
	const n = () => r.pick(nums).name, a = () => r.pick(any).name, k = () => r.int(0, 7);
	const cond = () => r.pick([
		`(${n()} & ${k()}) == ${k()}`, `(${n()} | 0) > ${k()}`, `${n()} ^ ${k()}`, `~${n()}`, `~${a()} + 1`,
		`${n()} << ${k()} > ${r.int(0, 40)}`, `${n()} >> 1 >= ${k()}`, `${n()} >>> 0 > ${k()}`,
		`${n()} > ${k()} > 0`, `${n()} < ${k()} == true`, `${n()} >= ${k()} === ${n()} > ${k()}`,
		`(${a()} & 1) != (${n()} | 2)`, `${n()} >>> 28 > ${k()} & 1`]);
	const whole = () => r.chance(0.25) ? `${a()}, ${cond()}` : r.chance(0.2) ? `${a()}; ${cond()}` : cond();
	const ints = [() => `${n()} & 6 | 1 << ${k()}`, () => `~${n()} >>> 28`, () => `${n()} ^ ${a()}`,
		() => `(${n()} | 0) >> 1`, () => `${a()} ${n()} << 2`, () => `-${n()} >>> ${r.int(0, 40)}`];
	const bools = [() => `${n()} > ${k()} > 0`, () => `${a()}, ${n()} >= ${k()}`, () => `(${n()} & 1) == 1`];
	for (let i = 0, m = r.int(1, 2); i < m; i++) {
		const b = r.chance(0.4);
		p.dataDefinitions.push({ class: b ? 'Boolean' : 'Integer', name: `jx${i}`, caption: 'bits',
			valueCondition: r.pick(b ? bools : ints)() });
	}
	layConditions(p, r, cond, whole);
	return p;
}

// Conditions laid over a third of the tasks (below the root) with r: a pre- or waitCondition,
// a recommendCondition or an argument's activeCondition, combined with one written there
// (cond()) or alone (whole()).
function layConditions(p, r, cond, whole) {
	const tasks = [];
	const walk = (t) => { for (const c of t.tasks || []) { tasks.push(c); walk(c); } };
	walk(p);
	for (const t of tasks) {
		if (!r.chance(0.35)) continue;
		const where = r.pick(['preCondition', 'waitCondition', 'rec', 'arg']);
		if (where === 'rec' || where === 'arg') {
			if (!t.candidates || !t.candidates.length) continue;
			const c = r.pick(t.candidates);
			if (where === 'rec') c.recommendCondition = c.recommendCondition ? `(${c.recommendCondition}) || (${cond()})` : whole();
			else if (c.arguments && c.arguments.length) {
				const g = r.pick(c.arguments);
				g.activeCondition = g.activeCondition ? `(${g.activeCondition}) && (${cond()})` : whole();
			}
		} else {
			t[where] = t[where] ? `(${t[where]}) ${r.pick(['&&', '||'])} (${cond()})` : whole();
		}
	}
}

// ---- members: JavaScript's member access, `this`, sequences, texts as numbers ----------------
// Laid over 35% of the protocols with a PRNG of its own (docs/knowledge-language.md §4.2):
// derived items and pre/wait/recommend/argument conditions reading `.length`, an index by
// number or key, `.includes(x)` of texts and lists, moment's now().diff(x, unit[, true]) and
// getters (hours(), days() ...; with the Date item dt0 too), `?.`, `this.x`, `this['x']`,
// `this.is_known('x')`, blank-separated lists and arguments (`[1 2]`, `nth([3 4] 1)`), texts
// JavaScript converts to numbers ('0x1f', ' 12 ', '0b101'), and now and then what throws in
// PROformajs and so fails the operation: a member of an unset item (mostly guarded by
// is_known), a number's .includes(), a sequence in parentheses `(a, b)`. A Text item `mk`
// with the range value 'length' makes `.length` a name PROformajs's validation knows.
function members(p, seed) {
	const r = rng(seed ^ 0x6d656d62);
	if (!r.chance(0.35) || !Array.isArray(p.dataDefinitions)) return p;
	const plain = p.dataDefinitions.filter((d) => !d.valueCondition && typeof d.name === 'string' && /^[a-z]\w*$/.test(d.name));
	const nums = plain.filter((d) => d.class === 'Integer' || d.class === 'Float');
	const texts = plain.filter((d) => d.class === 'Text' && Array.isArray(d.range) && d.range.length);
	if (!plain.length) return p;
	// (a text in an expression is a name PROformajs's validation must know: a range value)
	const numTexts = ['0x1f', ' 12 ', '0b101', '1e1', ' 0x2a ', '0o17', 'Infinity', '', '0'];
	p.dataDefinitions.push({ class: 'Text', name: 'mk', range: ['length', ...numTexts] });
	const vals = (d) => d.range.map((v) => (v && v.value !== undefined ? v.value : v)).filter((v) => typeof v === 'string');
	const a = () => r.pick(plain).name;
	const n = () => (nums.length ? r.pick(nums).name : a());
	const hasDate = p.dataDefinitions.some((d) => d.name === 'dt0' && d.class === 'Date');
	const k = () => r.int(0, 5);
	const forms = [
		() => `this.${a()} != undefined`, () => `this['${n()}'] > ${k()}`, () => `this.is_known('${a()}')`,
		() => `this['is_known']('${a()}') && this.${n()} >= ${k()}`,
		() => `${n()} == '0x1f'`, () => `${n()} < ' 12 '`, () => `+'0b101' + ${n()} > 6`, () => `'1e1' > ${n()}`,
		() => `count([1 2 ${k()}]) == 3`, () => `nth([3 4] 1) == ${n()}`, () => `is_known('${a()}' 1)`,
		() => `now().hours() >= 12`, () => `now().diff(0, 'days') > ${r.int(20000, 21000)}`,
		() => `now().diff(${n()}, 'months', true) > ${k()}`, () => `now().days() == ${r.int(0, 6)}`,
		() => `now()['diff'](${r.int(1767225600000, 1773500000000)}, 'hours') > ${r.int(0, 2000)}`,
		() => { const x = n(); return `is_known('${x}') && this.${x}.length == undefined`; },
		() => `${a()}?.length == undefined`, () => `!${n()}?.includes(1)`,
	];
	for (const d of texts) {
		const v = r.pick(vals(d));
		if (!v) continue;
		forms.push(() => `is_known('${d.name}') && ${d.name}.length > ${k()}`,
			() => `is_known('${d.name}') && ${d.name}.includes('${v}')`,
			() => `is_known('${d.name}') && ${d.name}[0] == ${d.name}['0']`);
	}
	if (hasDate)
		forms.push(() => `is_known('dt0') && now().diff(dt0, 'hours') > ${k()}`,
			() => `is_known('dt0') && dt0.diff(now(), 'days', true) < ${k()}`, () => `is_known('dt0') && dt0.hours() < 12`);
	// (rare: each throws wherever it is evaluated)
	const rare = [() => `(${a()}, ${a()})`, () => `${n()}.includes(1)`, () => `${a()}.constructor`,
		() => `${a()}.length > 2`, () => `this.${a()}.length == undefined`];
	const cond = () => (r.chance(0.04) ? r.pick(rare) : r.pick(forms))();
	// (a numeric item's value: a derived Integer item given a text is a difference of its own,
	// tests/data/proforma/gen-derived-text.json)
	const ints = [() => `count([${k()} ${k()} 1])`,
		() => `+'${r.pick(numTexts)}' + ${k()}`, () => `now().diff(${r.int(0, 1773500000000)}, 'days')`];
	for (const d of texts) ints.push(() => `is_known('${d.name}') ? ${d.name}.length : -1`);
	if (nums.length) ints.push(() => { const x = r.pick(nums).name; return `is_known('${x}') ? this.${x} : now().hours()`; });
	for (let i = 0, m = r.int(1, 2); i < m; i++) {
		const b = r.chance(0.4);
		p.dataDefinitions.push({ class: b ? 'Boolean' : 'Integer', name: `mx${i}`, caption: 'members',
			valueCondition: b ? cond() : r.pick(ints)() });
	}
	layConditions(p, r, cond, cond);
	return p;
}

// ---- thisAlone: `this` alone, PROformajs's evaluator object ------------------------------------
// Laid over 15% of the protocols with a PRNG of its own (docs/knowledge-language.md §4.2): `this`
// alone in pre/wait/recommend/argument conditions and derived items (truthy, "[object Object]"
// as a text, NaN as a number, count() and nth() of it undefined), and now and then what fails
// the operation in PROformajs: includes(this, x) and sum(this) throw, and `this` as a whole
// raw condition or a derived Text item's value is a new object at every cycle (never settles).
function thisAlone(p, seed) {
	const r = rng(seed ^ 0x74686973);
	if (!r.chance(0.15) || !Array.isArray(p.dataDefinitions)) return p;
	const plain = p.dataDefinitions.filter((d) => !d.valueCondition && typeof d.name === 'string' && /^[a-z]\w*$/.test(d.name));
	if (!plain.length) return p;
	const a = () => r.pick(plain).name;
	const k = () => r.int(0, 5);
	const forms = [() => `this && is_known('${a()}')`, () => `!this || is_known('${a()}')`,
		() => `this ? !is_known('${a()}') : false`, () => `this == this && is_known('${a()}')`,
		() => `this != undefined`, () => `count(this) == undefined`, () => `nth(this, 0) == undefined`,
		() => `(this | 0) == 0 && is_known('${a()}')`, () => `+this != +this`, () => `this > ${k()}`,
		() => `this.${a()} == this.${a()} && this`, () => `count([this ${k()}]) == 2`];
	const rare = [() => `includes(this, 1)`, () => `sum(this) > 0`, () => 'this'];
	const cond = () => (r.chance(0.04) ? r.pick(rare) : r.pick(forms))();
	const ints = [() => `this | ${k()}`, () => `count([this ${k()}])`, () => `(this ? 1 : 0) + ${k()}`,
		() => `+this`];
	p.dataDefinitions.push({ class: 'Integer', name: 'th0', caption: 'this', valueCondition: r.pick(ints)() });
	if (r.chance(0.03))
		p.dataDefinitions.push({ class: 'Text', name: 'th1', caption: 'this', valueCondition: 'this' });
	layConditions(p, r, cond, cond);
	return p;
}

// ---- loose: what PROformajs's validation lets through ------------------------------------------
// PROformajs checks names, not arities: a predicate called with fewer arguments gets undefined
// for the missing ones (count() and date_part_hour() are undefined, the Math functions NaN,
// includes(a) false unless a is a text holding "undefined", nth(a) undefined or a throw when a is
// unset, is_completed() and the like throw), and one called with more ignores the rest, also
// net_support('c', x), min(a, b) and max(a, b), whose second argument LEBEN's .pf form reads.
// LEBEN's own keys (antecedents, postAssignments) naming what the protocol lacks are ignored by
// PROformajs, and so by LEBEN. Laid over a quarter of the protocols with a PRNG of its own.
function loosen(p, seed) {
	const r = rng(seed ^ 0x1005e);
	if (!r.chance(0.25) || p.class !== 'Plan' || !Array.isArray(p.dataDefinitions)) return p;
	const items = p.dataDefinitions.filter((d) => !d.valueCondition && typeof d.name === 'string' && /^[a-z]\w*$/.test(d.name));
	if (!items.length) return p;
	const pick = (f) => { const xs = items.filter(f); return xs.length ? r.pick(xs).name : null; };
	const multi = pick((d) => d.multiValued), text = pick((d) => d.class === 'Text' && !d.multiValued);
	const num = pick((d) => d.class === 'Integer' || d.class === 'Float'), any = r.pick(items).name;
	const ints = ['count()', 'date_part_hour()', `count(${any}, 2)`, `round(${num || any}, 1)`];
	const bools = ['includes()', `includes(${any})`, `is_known('${any}', 1)`];
	if (multi) ints.push(`count(${multi}) > 0 ? min(${multi}, 9) : -1`, `is_known('${multi}') ? count(max(${multi}, ${any})) : -2`,
		`is_known('${multi}') ? nth(${multi}) : -3`, `nth(${multi}, 0, 1) == undefined ? 0 : 1`);
	if (text) bools.push(`includes(${text})`, `is_known('${text}') && nth(${text}) == undefined`);
	const floats = ['round()', 'abs() + 1', `log(${num || any}, 10)`];
	for (let i = 0, m = r.int(1, 3); i < m; i++) {
		const k = r.pick(['Integer', 'Boolean', 'Float']);
		p.dataDefinitions.push({ class: k, name: `lx${i}`, caption: 'loose',
			valueCondition: r.pick(k === 'Integer' ? ints : k === 'Boolean' ? bools : floats) });
	}
	const tasks = [];
	const walk = (t) => { for (const c of t.tasks || []) { tasks.push(c); walk(c); } };
	walk(p);
	for (const t of tasks) {
		// (not around a compound expression: `(a, b)` is not evaluated by PROformajs)
		if (r.chance(0.15) && !/[,;]/.test(t.waitCondition || '')) // a throw once the guard holds (is_finished() of undefined)
			t.waitCondition = `${t.waitCondition ? `(${t.waitCondition}) && ` : ''}${num ? `${num} == ${r.int(0, 5)} && ` : ''}is_finished()`;
		if (t.candidates && r.chance(0.4))
			for (const c of t.candidates)
				if (r.chance(0.5)) c.recommendCondition = `net_support('${c.name}', ${r.pick([`'${t.name}'`, '7', any])}) ${r.pick(['>', '>=', '<'])} ${r.int(-1, 1)}`;
		if (r.chance(0.1)) t.antecedents = [r.pick(['nosuchtask', t.name, `${t.name}x`])];
		if (r.chance(0.1)) t.postAssignments = [{ data: r.pick(['nosuchitem', any]), value: r.pick(['1', 'nosuchname + 1', `count(${any})`]) }];
	}
	// a DataDefinition item (PROformajs's base class: any value, its range alone checked),
	// asked by an enquiry, read by conditions and a derived DataDefinition item
	const enq = tasks.filter((t) => t.class === 'Enquiry' && Array.isArray(t.sources));
	if (enq.length && r.chance(0.6)) {
		const multi = r.chance(0.3);
		const ax = { class: 'DataDefinition', name: 'ax0', caption: 'anything' };
		if (multi || r.chance(0.5)) ax.range = r.pick([[1, 2, true], [0, 2.5, false], [3]]);
		if (multi) ax.multiValued = true;
		if (!multi && r.chance(0.3)) ax.defaultValue = ax.range ? r.pick(ax.range) : r.pick([2, true, 'free']);
		p.dataDefinitions.push(ax, { class: 'DataDefinition', name: 'ax1', caption: 'any derived',
			// (not the list itself: PROformajs keeps the item's own array, the same object at
			// every evaluation, which LEBEN's lists do not model)
			valueCondition: multi ? r.pick(['count(ax0)', 'count(ax0) > 1 ? 2 : 1']) : r.pick(["is_known('ax0') ? ax0 : 0", 'ax0 == 1']) });
		const q = r.pick(enq);
		q.sources.push({ class: 'Source', type: 'ax0' });
		if (!multi && r.chance(0.5)) q.useDefaults = true;
		const t = r.pick(tasks);
		if (!/[,;]/.test(t.preCondition || ''))
			t.preCondition = `${t.preCondition ? `(${t.preCondition}) || ` : ''}${r.pick(['ax0 === true', 'ax0 == 2', 'ax1 == 2', 'ax1 === 0'])}`;
	}
	// a task's or candidate's name used as a value (undefined there), and net_support() of a
	// task's name (0 when PROformajs finds the task from the caller, else a throw)
	for (const t of tasks) {
		if (!r.chance(0.2) || /[,;]/.test(t.waitCondition || '')) continue;
		const other = r.pick(tasks), cand = tasks.filter((x) => x.candidates && x.candidates.length);
		if (!/^[a-z]\w*$/.test(other.name)) continue; // (a name starting with a digit is no identifier)
		const c = cand.length ? r.pick(r.pick(cand).candidates).name : other.name;
		t.waitCondition = `${t.waitCondition ? `(${t.waitCondition}) && ` : ''}${r.pick([
			`!${other.name}`, `${c} == undefined`, `(${other.name} || 1) > 0`, `net_support('${other.name}') == 0`,
			`is_known('${any}') || net_support('${other.name}', 1) >= 0`])}`;
	}
	return p;
}

// ---- nulls: JavaScript's null, the root's state object, an item's own array -----------------
// Laid over a fifth of the protocols with a PRNG of their own: derived items and conditions
// reading result_of()/result_set() of a task that is not a decision or of no argument (null:
// null + 1 is 1, null == undefined, null !== undefined, "null" in a text), the top-level task's
// name as a value (its state object: "[object Object]", truthy, count() undefined; never the
// whole value of a non-numeric item, which PROformajs would store and LEBEN refuses), and a
// derived item whose value is a multi-valued item's own array (the same object: it settles,
// and changes at every set of the item).
function nullish(p, seed) {
	const r = rng(seed ^ 0x9011);
	if (!r.chance(0.2) || p.class !== 'Plan' || !Array.isArray(p.dataDefinitions)) return p;
	const ident = (n) => typeof n === 'string' && /^[a-z]\w*$/.test(n);
	const items = p.dataDefinitions.filter((d) => !d.valueCondition && ident(d.name));
	const tasks = [];
	const walk = (t) => { for (const c of t.tasks || []) { tasks.push(c); walk(c); } };
	walk(p);
	const plain = tasks.filter((t) => t.class !== 'Decision' && ident(t.name));
	if (!items.length || !plain.length || !ident(p.name)) return p;
	const pick = (f) => { const xs = items.filter(f); return xs.length ? r.pick(xs).name : null; };
	const num = pick((d) => (d.class === 'Integer' || d.class === 'Float') && !d.multiValued);
	const multi = pick((d) => d.multiValued), any = r.pick(items).name, root = p.name;
	const t = () => r.pick(plain).name;
	const res = () => r.pick([`result_of('${t()}')`, `result_set('${t()}')`, 'result_of()', 'result_set()']);
	const ints = [`${res()} + ${num || 1}`, `${res()} >= 0 ? 1 : 2`, `~${res()}`, `abs(${res()}) + (${res()} | 4)`,
		`${root} ? 3 : 4`, `count(${root}) === undefined ? 5 : 6`, `(${res()} || ${root}) ? 7 : 8`];
	const bools = [`${res()} == undefined`, `${res()} === undefined`, `${res()} < ${num || 1}`, `!${res()}`,
		`!${root} || ${any} == ${root}`, `${root} < '${t()}'`, `${res()} == ${res()}`];
	const texts = [`${res()} + '${t()}'`, `${root} + ${any}`, `${res()} + ${any}`];
	const anys = [res(), `${num || 1} > 2 ? 1 : ${res()}`];
	for (let i = 0, m = r.int(1, 3); i < m; i++) {
		const k = r.pick(['Integer', 'Boolean', 'Text', 'DataDefinition']);
		p.dataDefinitions.push({ class: k, name: `nx${i}`, caption: 'null',
			valueCondition: r.pick(k === 'Integer' ? ints : k === 'Boolean' ? bools : k === 'Text' ? texts : anys) });
	}
	if (multi && r.chance(0.6))
		p.dataDefinitions.push({ class: 'DataDefinition', name: 'nm0', caption: 'own list',
			valueCondition: r.pick([multi, `is_known('${multi}') && ${multi}`]) },
		{ class: 'Boolean', name: 'nm1', caption: 'same list', valueCondition: `nm0 == ${multi}` });
	for (const x of tasks) {
		if (!r.chance(0.15) || /[,;]/.test(x.waitCondition || '')) continue;
		x.waitCondition = `${x.waitCondition ? `(${x.waitCondition}) && ` : ''}${r.pick([
			`!!${root}`, `${res()} == undefined`, `${res()} !== undefined`, `(${res()} + 1) > 0`])}`;
	}
	return p;
}

function generateStrict(seed, feat) {
	const r = rng(seed);
	uniq = 1;
	ALL = [];
	const data = genData(r, feat);
	const ctx = { data, feat, wild: r.chance(0.08) };
	const root = { class: 'Plan', name: 'p0', caption: 'generated', tasks: [], dataDefinitions: data };
	if (r.chance(0.7)) root.autonomous = true;
	const n = r.int(1, 4);
	for (let i = 0; i < n; i++) root.tasks.push(genTask(r, ctx, 1, root.tasks.slice()));
	// a repeating protocol: its root is "p0[0]", then "p0[1]", ...
	if (feat.cyclicRoot && r.chance(0.08) && root.tasks.some((t) => !t.optional && !t.autonomous && !t.eventTrigger && !t.preCondition)) {
		root.cyclic = true; // completed by the user: an autonomous one may repeat at once, forever
		delete root.autonomous;
		root.cycleUntil = `is_known('${data[0].name}')`;
	}
	return root;
}

// ---- the oracle -------------------------------------------------------------------------------
function jsval(v) {
	if (v === undefined || v === null) return null;
	if (typeof v === 'number' && !isFinite(v)) return isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
	if (v && v._isAMomentObject) return v.toISOString();
	return v;
}

export function snapshot(en) {
	const out = { finished: false, tasks: {}, completeable: [], requested: [], candidates: {},
		data: {}, versions: {}, warnings: [], triggers: [] };
	const st = en._state;
	const root = en.protocol.cyclic ? Object.keys(st).filter((k) => !k.includes(':')).pop() : en.protocol.name;
	out.finished = ['completed', 'discarded'].includes(st[root] && st[root].state);
	for (const [k, v] of Object.entries(st)) {
		if (v instanceof P.TaskState) {
			if (v.state == null) continue;
			out.tasks[k] = v.state;
			if (v.state === 'in_progress' && v.completeable) out.completeable.push(k);
			const tr = v.trigger();
			// PROformajs keys triggers by their String() (an eventTrigger may be 7 or ['a'])
			if (tr != null && !out.triggers.includes(String(tr))) out.triggers.push(String(tr));
		} else if (v instanceof P.SourceState) {
			if (v.requested) out.requested.push(k);
		} else if (v instanceof P.CandidateState) {
			out.candidates[k] = [jsval(v.support), !!v.recommended, !!v.confirmed];
		} else if (v instanceof P.WarningState) {
			if (v.active) out.warnings.push(k);
		}
	}
	// dynamic captions and descriptions ("${...}") as rendered: [caption, description]
	for (const [k, v] of Object.entries(st)) {
		if (!(v instanceof P.TaskState || v instanceof P.CandidateState || v instanceof P.ArgumentState)) continue;
		if (v.caption === undefined && v.description === undefined) continue;
		(out.captions = out.captions || {})[k] = [v.caption === undefined ? null : v.caption,
			v.description === undefined ? null : v.description];
	}
	for (const path of Object.keys(en._data))
		for (const [name, arr] of Object.entries(en._data[path])) {
			if (arr.length === 0) continue; // a rejected default's empty history: no value
			out.versions[name] = (out.versions[name] || 0) + arr.length;
			out.data[name] = jsval(arr[arr.length - 1].value);
		}
	return out;
}

export function applyOp(en, op) {
	if (op.at !== undefined) setClock(op.at);
	switch (op.op) {
	case 'set': en.set(op.path, op.data); break;
	case 'unset': en.unset(op.path, op.name); break;
	case 'complete': en.complete(op.path); break;
	case 'cancel': en.cancel(op.path); break;
	case 'confirm': en.confirm(op.path); break;
	case 'unconfirm': en.unconfirm(op.path); break;
	case 'trigger': en.sendTrigger(op.name); break;
	default: throw new Error(`unknown op ${op.op}`);
	}
}

function randomValue(r, d) {
	if (r.chance(0.05)) return r.pick(['x', 99, true, 2.5]); // maybe refused
	if (d.range && d.range.length) {
		const vals = d.range.map((v) => (v && v.value !== undefined ? v.value : v));
		if (d.multiValued) return vals.filter(() => r.chance(0.5));
		return r.pick(vals);
	}
	switch (d.constructor.name) {
	case 'Boolean': return r.chance(0.5);
	case 'Integer': return r.chance(0.02) ? 12345678901234567890 : r.int(0, 5);
	case 'Float': return r.pick([0.5, 1.25, 2, 3.75, 4.5]);
	default: return 'free';
	}
}

// A random next operation from the current state, or null when nothing is left.
function chooseOp(r, en, snap) {
	const root = Object.keys(snap.tasks).filter((k) => !k.includes(':')).pop() || en.protocol.name;
	const all = [];
	const walk = (t) => { all.push(...t.dataDefinitions); for (const c of t.tasks || []) walk(c); };
	walk(en.protocol);
	const defs = all.filter((d) => d.valueCondition == null);
	const menu = [];
	for (const sp of snap.requested) {
		const name = sp.split(':').pop();
		const d = defs.find((x) => x.name === name);
		const at = sp.slice(0, sp.lastIndexOf(':')); // the enquiry: the item is visible there
		if (d) menu.push([5, () => ({ op: 'set', path: at, data: { [name]: randomValue(r, d) } })]);
	}
	const paths = Object.keys(snap.tasks);
	if (defs.length) menu.push([1, () => {
		const d = r.pick(defs);
		const data = { [d.name]: randomValue(r, d) };
		// now and then two answers at once (stored together, then one cycle)
		if (r.chance(0.15)) { const d2 = r.pick(defs); data[d2.name] = randomValue(r, d2); }
		return { op: 'set', path: r.chance(0.7) ? root : r.pick(paths), data };
	}]);
	const known = defs.filter((d) => snap.data[d.name] != null);
	if (known.length) menu.push([0.3, () => ({ op: 'unset', path: root, name: r.pick(known).name })]);
	for (const p of snap.completeable) menu.push([3, () => ({ op: 'complete', path: p })]);
	for (const [p, c] of Object.entries(snap.candidates)) {
		const dec = p.slice(0, p.lastIndexOf(':'));
		if (snap.tasks[dec] !== 'in_progress') continue;
		menu.push([c[2] ? 1 : 3, () => ({ op: c[2] ? 'unconfirm' : 'confirm', path: p })]);
	}
	for (const t of snap.triggers) menu.push([2, () => ({ op: 'trigger', name: t })]);
	const inprog = Object.keys(snap.tasks).filter((k) => snap.tasks[k] === 'in_progress' && k.includes(':'));
	if (inprog.length) menu.push([0.3, () => ({ op: 'cancel', path: r.pick(inprog) })]);
	const bad = Object.keys(snap.tasks).filter((k) => snap.tasks[k] !== 'in_progress');
	if (bad.length) menu.push([0.2, () => ({ op: 'complete', path: r.pick(bad) })]); // refused
	if (!menu.length) return null;
	let tot = menu.reduce((a, m) => a + m[0], 0), x = r.f() * tot;
	for (const [w, f] of menu) { if ((x -= w) < 0) return f(); }
	return menu[menu.length - 1][1]();
}

// Run a protocol: with ops given, replay them; else choose up to maxSteps random ones.
// Returns {ops, trace} (trace[0] is the start) or {invalid: reasons}.
export function runOracle(protocolJson, opts = {}) {
	let protocol;
	try {
		protocol = new P[protocolJson.class](JSON.parse(JSON.stringify(protocolJson)));
	} catch (e) {
		return { invalid: [String(e.message)] };
	}
	const issues = protocol.validate().filter((i) => i.type === 'Error');
	if (issues.length) return { invalid: issues.map((i) => `${i.path}: ${i.attribute}: ${i.msg}`) };
	const trace = [];
	let en;
	setClock(NOW_MS);
	// a protocol reading the times of states and values: each operation a minute after the
	// last (the ops carry the time, `at`, so that a replay sees the same clock)
	const timed = /_time\(|last_updated\(/.test(JSON.stringify(protocolJson));
	try {
		en = new Enactment({ protocol, start: true });
		trace.push({ step: 0, op: { op: 'start' }, error: false, ...snapshot(en) });
	} catch (e) {
		return { trace: [{ step: 0, op: { op: 'start' }, error: true }], ops: [], message: String(e.message) };
	}
	const r = rng(opts.seed || 1);
	const ops = opts.ops ? opts.ops.slice() : [];
	const n = opts.ops ? ops.length : (opts.maxSteps || 20);
	for (let i = 0; i < n; i++) {
		const snap = trace[trace.length - 1];
		if (!opts.ops && snap.finished) break;
		const op = opts.ops ? ops[i] : chooseOp(r, en, snap);
		if (op == null) break;
		if (!opts.ops && timed) op.at = NOW_MS + 60000 * (i + 1);
		if (!opts.ops) ops.push(op);
		let error = false;
		try { applyOp(en, op); } catch (e) { error = true; }
		trace.push({ step: i + 1, op, error, ...snapshot(en) });
	}
	return { ops, trace };
}

// First difference between two canonical traces, or null.
export function firstDiff(a, b) {
	const n = Math.max(a.length, b.length);
	for (let i = 0; i < n; i++) {
		if (!a[i] || !b[i]) return { step: i, field: 'length', oracle: a[i] ? 'step' : 'none', leben: b[i] ? 'step' : 'none' };
		for (const f of ['error', 'finished', 'tasks', 'completeable', 'requested', 'candidates', 'data', 'versions', 'warnings', 'triggers', 'captions']) {
			const sorted = f === 'data' || f === 'versions' || f === 'captions';
			const x = JSON.stringify(norm(a[i][f], sorted)), y = JSON.stringify(norm(b[i][f], sorted));
			if (x !== y) return { step: i, op: a[i].op, field: f, oracle: a[i][f], leben: b[i][f] };
		}
	}
	return null;
}

// Numbers compared to 12 significant digits (the C side prints %.17g).
export function norm(v, sorted) {
	if (typeof v === 'number') return Number(v.toPrecision(12));
	if (Array.isArray(v)) return v.map((x) => norm(x));
	if (v && typeof v === 'object') {
		const o = {};
		const keys = Object.keys(v);
		if (sorted) keys.sort();
		for (const k of keys) o[k] = norm(v[k]);
		return o;
	}
	return v;
}
