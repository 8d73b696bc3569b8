// The hexahedron's canonical binary encoding (docs/hexahedron.md, src/data/hexa.c), decoded in
// the page into the same JSON form lb_hexa_to_json gives (the CLI's `data show --json`).
import { Reader, toHex } from './codec.js';

// id -> [name, type]; the table of include/leben/data_hexa.h (LB_HEXA_FIELDS).
const S = 'str', U = 'u64', L = 'list', M = 'map', SH = 'shares', H32 = 'h32', H16 = 'h16', B = 'bytes';
export const FIELDS = [null,
  ['basic.name', S], ['basic.description', S], ['basic.classification', S], ['basic.category', S],
  ['basic.class', S], ['basic.size', U], ['basic.volume', U], ['basic.creator', S], ['basic.created', U],
  ['semantic.intent', S], ['semantic.subject', S], ['semantic.codes', L], ['semantic.keywords', L],
  ['data.format', S], ['data.features', M], ['exchange.owners', SH], ['exchange.restrictions', L],
  ['exchange.delivery', S], ['exchange.conditions', S], ['exchange.billing', S], ['exchange.price', U],
  ['exchange.valid_from', U], ['exchange.valid_until', U], ['exchange.level', U], ['dynamic.extractor', S],
  ['dynamic.sync', S], ['dynamic.period', U], ['dynamic.storage', S], ['dynamic.version', U],
  ['dynamic.previous', H32], ['raw.blake2b', H32], ['raw.md5', H16], ['raw.vault', S], ['raw.pdq', H32],
  ['raw.minhash', B], ['audit.score', U], ['audit.report', H32], ['exchange.readers', L], ['raw.imgsig', B],
];
export const FACETS = ['basic', 'semantic', 'data', 'exchange', 'dynamic', 'raw', 'audit'];
const N = FIELDS.length - 1;
const MAX_LIST = 1024, MAX_TEXT = 4096;

function text(r, name) {
  const s = r.text(name, MAX_TEXT);
  if (!s.length) r.fail(name, 'is empty');
  return s;
}
const num = (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v > (1n << 63n) - 1n ? v.toString() : Number(v));

export function decodeHexa(bytes) {
  const r = new Reader(bytes, 'hexahedron');
  const version = r.uvar('version', 0xffffffff);
  if (version !== 1) r.fail('version', `${version} is not supported (1 is)`);
  const mask = r.uvarBig('public mask'), present = r.uvarBig('present mask');
  const valid = ((1n << BigInt(N + 1)) - 1n) & ~1n;
  if ((mask | present) & ~valid) r.fail('field masks', 'name unknown fields');
  const out = { hexahedron: 1, public: [] };
  for (let i = 1; i <= N; i++) {
    const [name, type] = FIELDS[i];
    if ((mask >> BigInt(i)) & 1n) out.public.push(name);
    if (!((present >> BigInt(i)) & 1n)) continue;
    const [facet, field] = name.split('.');
    let v;
    if (type === S) v = text(r, name);
    else if (type === U) v = num(r.uvarBig(name));
    else if (type === H32 || type === H16) v = toHex(r.fixed(name, type === H32 ? 32 : 16));
    else if (type === B) {
      const b = r.bytes(name, 1 << 20);
      if (!b.length) r.fail(name, 'is empty');
      v = toHex(b);
    } else {
      const n = r.uvar(name, MAX_LIST);
      if (!n) r.fail(name, 'is an empty list');
      const keys = [];
      v = type === L ? keys : {};
      let prev = null;
      for (let k = 0; k < n; k++) {
        const key = text(r, name);
        if (prev !== null && !(Buffer_cmp(prev, key) < 0)) r.fail(name, 'entries are not in strictly increasing order');
        prev = key;
        if (type === L) keys.push(key);
        else if (type === M) v[key] = text(r, name);
        else v[key] = num(r.uvarBig(name));
      }
    }
    (out[facet] ??= {})[field] = v;
  }
  r.end();
  return out;
}

// strcmp on UTF-8 bytes (the C order of set and map entries).
const te = new TextEncoder();
function Buffer_cmp(a, b) {
  const x = te.encode(a), y = te.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
