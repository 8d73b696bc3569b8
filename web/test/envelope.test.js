// The page opens the C side's level-1 envelopes (leben envelope seal) byte for byte, with an
// X25519 key of its own or one converted from an Ed25519 identity exactly as the C side
// converts it; wrong keys, altered, cut and extended envelopes are refused as the C side
// refuses them. The hexahedron decoder gives the documented known answer and refuses
// non-canonical bytes. Needs build/leben (LEBEN_BIN to use another).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { ready } from '../src/lib/crypto.js';
import { fromHex, toHex, equalBytes } from '../src/lib/codec.js';
import { parseKeyFile, openKeyFile } from '../src/lib/keystore.js';
import { openEnvelope, envelopeKeypair, envelopePublicKey } from '../src/lib/envelope.js';
import { decodeHexa } from '../src/lib/hexa.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.LEBEN_BIN || join(root, 'build', 'leben');
const home = mkdtempSync(join(tmpdir(), 'leben-webenv-'));
const env = { ...process.env, LEBEN_PASSPHRASE: 'demo' };
const leben = (...args) => execFileSync(bin, args, { env, encoding: 'utf8' }).trim();
const cOpens = (file, key) => spawnSync(bin, ['envelope', 'open', '--key', key, '--in', file, '--out', file + '.out'], { env }).status === 0;

test.after(() => rmSync(home, { recursive: true, force: true }));

test('envelopes sealed by the C side open in the page, byte for byte', async () => {
  await ready();
  leben('init', '--home', home, '--demo');
  const bob = openKeyFile(parseKeyFile(readFileSync(join(home, 'keys', 'bob.key'), 'utf8')), 'demo');
  const bobX = envelopeKeypair(bob.secretKey);
  const cPk = JSON.parse(leben('envelope', 'pubkey', '--ed25519', toHex(bob.publicKey), '--json')).public_key;
  assert.equal(toHex(bobX.pk), cPk, 'X25519 key of an Ed25519 identity as the C side converts it');
  assert.equal(toHex(envelopePublicKey(bob.publicKey)), cPk);
  const k1 = join(home, 'k1');
  const k1pk = JSON.parse(leben('envelope', 'keygen', '--out', k1, '--json')).public_key;
  const k1sk = fromHex(readFileSync(k1, 'utf8').trim());
  for (const n of [0, 1, 100, 65535, 65536, 65537, 200000]) {
    const msg = randomBytes(n);
    const f = join(home, `m${n}`);
    writeFileSync(f, msg);
    leben('envelope', 'seal', '--to', `${k1pk},${cPk}`, '--in', f, '--out', f + '.env');
    const e = new Uint8Array(readFileSync(f + '.env'));
    assert.ok(equalBytes(openEnvelope(e, bobX), msg), `${n} bytes opened with bob's converted key`);
    assert.ok(equalBytes(openEnvelope(e, { sk: k1sk, pk: fromHex(k1pk) }), msg), `${n} bytes opened with a keygen key`);
  }
});

test('wrong keys, altered, cut and extended envelopes are refused as the C side refuses them', async () => {
  await ready();
  const k1 = join(home, 'k3'), k2 = join(home, 'k2');
  const k1pk = JSON.parse(leben('envelope', 'keygen', '--out', k1, '--json')).public_key;
  const k2pk = JSON.parse(leben('envelope', 'keygen', '--out', k2, '--json')).public_key;
  const me = { sk: fromHex(readFileSync(k1, 'utf8').trim()), pk: fromHex(k1pk) };
  const other = { sk: fromHex(readFileSync(k2, 'utf8').trim()), pk: fromHex(k2pk) };
  const f = join(home, 'secret');
  writeFileSync(f, randomBytes(70000));
  leben('envelope', 'seal', '--to', k1pk, '--in', f, '--out', f + '.env');
  const e = new Uint8Array(readFileSync(f + '.env'));
  assert.throws(() => openEnvelope(e, other), (x) => x.code === 'EWRONGKEY' && /not one of its 1 recipient/.test(x.message));
  assert.ok(!cOpens(f + '.env', k2), 'the C side refuses the wrong key too');
  const cases = [
    ['magic', (b) => { b[0] ^= 1; return b; }, 'EMALFORMED'],
    ['version', (b) => { b[4] = 2; return b; }, 'EUNSUPPORTED'],
    ['ephemeral key', (b) => { b[9] ^= 1; return b; }, null],
    ['key id', (b) => { b[40] ^= 1; return b; }, 'ETAMPERED'],
    ['wrapped key', (b) => { b[60] ^= 1; return b; }, 'ETAMPERED'],
    ['stream header', (b) => { b[100] ^= 1; return b; }, 'ETAMPERED'],
    ['first record', (b) => { b[200] ^= 1; return b; }, 'ETAMPERED'],
    ['last record', (b) => { b[b.length - 3] ^= 1; return b; }, 'ETAMPERED'],
    ['cut before the final record', (b) => b.slice(0, 120 + 4 + 65536 + 17), 'ETRUNCATED'],
    ['cut in the header', (b) => b.slice(0, 30), 'ETRUNCATED'],
    ['a byte appended', (b) => Uint8Array.from([...b, 0]), 'ETAMPERED'],
  ];
  for (const [what, mutate, code] of cases) {
    const bad = mutate(Uint8Array.from(e));
    assert.throws(() => openEnvelope(bad, me), (x) => (code ? x.code === code : !!x.code), `${what} refused`);
    writeFileSync(f + '.bad', bad);
    assert.ok(!cOpens(f + '.bad', k1), `the C side refuses it too (${what})`);
  }
  assert.ok(cOpens(f + '.env', k1), 'and the intact envelope opens on both sides');
});

test('hexahedron decoding: the documented known answer, non-canonical bytes refused', () => {
  const kat = fromHex('0182808080088280808008024354' + '11'.repeat(32));
  assert.deepEqual(decodeHexa(kat), { hexahedron: 1, public: ['basic.name', 'raw.blake2b'], basic: { name: 'CT' }, raw: { blake2b: '11'.repeat(32) } });
  const bad = [
    ['02', 'version'], ['0182808080088280808008024354', 'truncated'],
    [toHex(kat) + '00', 'trailing'], ['01' + '808080808020' + '00', 'mask of an unknown field'],
    ['0100020000', 'empty text'], ['010002024300'.slice(0, 8) + 'ff', 'bad UTF-8'],
    ['0100' + '8020' + '02' + '0161' + '0161', 'set entries not increasing'],
    ['018000' + '00', 'non-minimal varint'],
  ];
  for (const [hex, what] of bad) assert.throws(() => decodeHexa(fromHex(hex)), Error, what);
});
