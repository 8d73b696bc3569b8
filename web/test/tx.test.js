// The page's transfer encoding and signature equal the C encoder's (leben tx transfer --print)
// byte for byte, for the same key, inputs, nonce, fee and network; the page opens the CLI's key
// files and decodes what it signs. Needs build/leben (LEBEN_BIN to use another).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '../src/lib/crypto.js';
import { fromHex, toHex, parseAmount } from '../src/lib/codec.js';
import { addressDecode } from '../src/lib/address.js';
import { parseKeyFile, openKeyFile } from '../src/lib/keystore.js';
import { signTx, transferPayload, convertPayload, decodeTx, txSignatureIsValid, TX_TYPES } from '../src/lib/tx.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.LEBEN_BIN || join(root, 'build', 'leben');
const home = mkdtempSync(join(tmpdir(), 'leben-webtx-'));
const env = { ...process.env, LEBEN_PASSPHRASE: 'demo' };
const leben = (...args) => execFileSync(bin, args, { env, encoding: 'utf8' }).trim();

test.after(() => rmSync(home, { recursive: true, force: true }));

test('transfer bytes equal the C encoder for the same inputs', async () => {
  await ready();
  leben('init', '--home', home, '--demo');
  const alice = openKeyFile(parseKeyFile(readFileSync(join(home, 'keys', 'alice.key'), 'utf8')), 'demo');
  const bob = parseKeyFile(readFileSync(join(home, 'keys', 'bob.key'), 'utf8'));
  assert.equal(alice.address, JSON.parse(readFileSync(join(home, 'keys', 'alice.key'), 'utf8')).address);
  const network = fromHex('ab'.repeat(32));
  const cases = [
    { asset: 'asc', a: 1, amount: '12.5', memo: 'lab fees', fee: '0.001', nonce: 3, expires: 0 },
    { asset: 'csc', a: 2, amount: '0.000001', memo: '', fee: '0', nonce: 0, expires: 0 },
    { asset: 'asc', a: 1, amount: '123456789.654321', memo: 'Ärztekammer ✓ 200', fee: '1000', nonce: 300, expires: 1893456000000 },
  ];
  for (const c of cases) {
    const args = ['tx', 'transfer', '--home', home, '--from', 'alice', '--to', bob.address,
      '--asset', c.asset, '--amount', c.amount, '--fee', c.fee, '--nonce', String(c.nonce),
      '--network-id', toHex(network), '--print'];
    if (c.memo) args.push('--memo', c.memo);
    if (c.expires) args.push('--expires-at', String(c.expires));
    const want = leben(...args);
    const { raw } = signTx({
      chain: 0, type: TX_TYPES.transfer, sender: alice.publicKey, nonce: c.nonce,
      fee: parseAmount(c.fee), expires: c.expires,
      payload: transferPayload(addressDecode(bob.address), c.a, parseAmount(c.amount), c.memo),
    }, network, alice.secretKey);
    assert.equal(toHex(raw), want, `transfer ${JSON.stringify(c)}`);
    const d = decodeTx(raw);
    assert.equal(d.typeName, 'transfer');
    assert.equal(d.fields.to, bob.address);
    assert.equal(d.fields.amount, parseAmount(c.amount));
    assert.equal(d.fields.memo, c.memo);
    assert.equal(d.senderAddress, alice.address);
    assert.ok(txSignatureIsValid(d, network));
    assert.ok(!txSignatureIsValid(d, fromHex('cd'.repeat(32))), 'another network fails');
  }
});

test('convert bytes equal the C encoder', async () => {
  await ready();
  const alice = openKeyFile(parseKeyFile(readFileSync(join(home, 'keys', 'alice.key'), 'utf8')), 'demo');
  const network = fromHex('5a'.repeat(32));
  const want = leben('tx', 'convert', '--home', home, '--from', 'alice', '--amount', '7.25', '--fee', '0.001',
    '--nonce', '9', '--network-id', toHex(network), '--print');
  const { raw } = signTx({ chain: 0, type: TX_TYPES.convert, sender: alice.publicKey, nonce: 9, fee: 1000n,
    expires: 0, payload: convertPayload(7250000n) }, network, alice.secretKey);
  assert.equal(toHex(raw), want);
  assert.equal(decodeTx(raw).typeName, 'convert');
});

test('the page decodes the CLI\'s identity, record and asset txs as the node does', async () => {
  await ready();
  const net = ['--network-id', 'ab'.repeat(32), '--fee', '0', '--nonce', '0', '--print', '--home', home, '--from', 'clinic'];
  let d = decodeTx(fromHex(leben('tx', 'identity', '--role', 'provider', '--name', 'Clinic One', '--meta', '{"city":"Bern"}', ...net)));
  assert.deepEqual([d.typeName, d.chain, d.fields.role, d.fields.name, d.fields.metadata],
    ['identity.register', 'business', 'provider', 'Clinic One', '{"city":"Bern"}']);
  d = decodeTx(fromHex(leben('tx', 'record', '--kind', 'consent.viewed', '--subject', 'cd'.repeat(32), '--data', 'seen', ...net)));
  assert.deepEqual([d.typeName, d.fields.kind, d.fields.subject, d.fields.data], ['record', 'consent.viewed', 'cd'.repeat(32), 'seen']);
  d = decodeTx(fromHex(leben('tx', 'asset-register', '--content-hash', 'ef'.repeat(32), '--meta', 'scan', ...net)));
  assert.deepEqual([d.typeName, d.chain, d.fields.content_hash, d.fields.metadata], ['asset.register', 'directory', 'ef'.repeat(32), 'scan']);
});

test('a wrong passphrase or an edited key file does not open', async () => {
  await ready();
  const text = readFileSync(join(home, 'keys', 'bob.key'), 'utf8');
  assert.throws(() => openKeyFile(parseKeyFile(text), 'not-demo'), /wrong passphrase/);
  const o = JSON.parse(text);
  o.public_key = JSON.parse(readFileSync(join(home, 'keys', 'alice.key'), 'utf8')).public_key;
  assert.throws(() => openKeyFile(parseKeyFile(JSON.stringify(o)), 'demo'), /wrong passphrase/);
  assert.throws(() => parseKeyFile('{"version":2}'), /not a LEBEN key file/);
});

test('decoder refuses non-canonical bytes', async () => {
  await ready();
  assert.throws(() => addressDecode('lb1wxyspc35lkfravye0gvp74v33rn22zej34r6hy'), /typo/);
  // nonce 3 written as 0x83 0x00 (not shortest) in an otherwise fine tx
  const alice = openKeyFile(parseKeyFile(readFileSync(join(home, 'keys', 'alice.key'), 'utf8')), 'demo');
  const { raw } = signTx({ chain: 0, type: 0x0102, sender: alice.publicKey, nonce: 3, fee: 0n, expires: 0,
    payload: transferPayload(new Uint8Array(20), 1, 5n, '') }, new Uint8Array(32), alice.secretKey);
  const bad = new Uint8Array([...raw.subarray(0, 36), 0x83, 0x00, ...raw.subarray(37)]);
  assert.throws(() => decodeTx(bad), /shortest form/);
  assert.throws(() => decodeTx(new Uint8Array([...raw, 0])), /trailing/);
});
