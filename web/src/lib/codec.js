// Canonical binary encoding (docs/wire-format.md, "Primitives"): u8, uvar (LEB128, shortest
// form, up to 64 bits), fixed[n], bytes, text. Numbers that may pass 2^53 are BigInt.

export function toHex(b) {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 || /[^0-9a-fA-F]/.test(s))
    throw new Error('not an even-length hex string');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

export class Writer {
  constructor() { this.parts = []; }
  u8(v) { this.parts.push(Uint8Array.of(v & 0xff)); return this; }
  uvar(v) {
    let x = BigInt(v);
    if (x < 0n || x >= 1n << 64n) throw new Error('uvar out of range');
    const out = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      out.push(b);
    } while (x);
    this.parts.push(Uint8Array.from(out));
    return this;
  }
  fixed(b, n) {
    if (b.length !== n) throw new Error(`expected ${n} bytes, got ${b.length}`);
    this.parts.push(Uint8Array.from(b));
    return this;
  }
  bytes(b) { this.uvar(b.length); this.parts.push(Uint8Array.from(b)); return this; }
  text(s) { return this.bytes(utf8.encode(s)); }
  raw(b) { this.parts.push(Uint8Array.from(b)); return this; }
  done() { return concat(...this.parts); }
}

export class Reader {
  constructor(buf, what = 'data') { this.b = buf; this.o = 0; this.what = what; }
  fail(field, msg) { throw new Error(`${this.what}: ${field} at byte ${this.o}: ${msg}`); }
  left() { return this.b.length - this.o; }
  u8(field) {
    if (this.o >= this.b.length) this.fail(field, 'truncated');
    return this.b[this.o++];
  }
  // Returns a BigInt; max (BigInt) bounds the value.
  uvarBig(field, max = (1n << 64n) - 1n) {
    let x = 0n, shift = 0n;
    for (let i = 0; ; i++) {
      if (i >= 10) this.fail(field, 'varint too long');
      const b = this.u8(field);
      x |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) {
        if (b === 0 && i > 0) this.fail(field, 'varint not in shortest form');
        break;
      }
    }
    if (x > max) this.fail(field, `value ${x} over the maximum ${max}`);
    return x;
  }
  // A uvar as a Number (refused above 2^53-1).
  uvar(field, max = Number.MAX_SAFE_INTEGER) { return Number(this.uvarBig(field, BigInt(max))); }
  fixed(field, n) {
    if (this.left() < n) this.fail(field, `needs ${n} bytes, ${this.left()} left`);
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  bytes(field, max = 1 << 26) {
    const n = this.uvar(field, max);
    return this.fixed(field, n);
  }
  text(field, max = 1 << 16) {
    const b = this.bytes(field, max);
    let s;
    try { s = utf8d.decode(b); } catch { this.fail(field, 'not UTF-8'); }
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s)) this.fail(field, 'control character');
    return s;
  }
  end() { if (this.left()) this.fail('end', `${this.left()} trailing bytes`); }
}

// Micro-units <-> decimal text ("12.5" <-> 12500000n), exact.
export function parseAmount(text) {
  const m = /^\s*(\d{1,13})(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!m) throw new Error('an amount is a number with at most 6 decimals, such as 12.5');
  return BigInt(m[1]) * 1000000n + BigInt((m[2] || '').padEnd(6, '0'));
}

export function formatAmount(micro) {
  const v = BigInt(micro);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / 1000000n, frac = a % 1000000n;
  let s = whole.toLocaleString('en-US');
  if (frac) s += '.' + frac.toString().padStart(6, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + s;
}
