// The page's decoders on random and mutated input: they either decode or throw an Error with
// a message, never anything else, and whatever decodes re-encodes to the same bytes (one
// encoding per value). Seeded, so a failure repeats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ready } from '../src/lib/crypto.js';
import { decodeTx, encodeUnsigned, transferPayload } from '../src/lib/tx.js';
import { verifyProof, decodeHeader } from '../src/lib/proof.js';
import { parseKeyFile } from '../src/lib/keystore.js';
import { concat } from '../src/lib/codec.js';

function rng(seed) {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

test('decoders survive random and mutated input', async () => {
  await ready();
  const r = rng(1234567);
  const base = concat(encodeUnsigned({ chain: 0, type: 0x0102, sender: new Uint8Array(32).fill(7), nonce: 300,
    fee: 1000n, expires: 0, payload: transferPayload(new Uint8Array(20).fill(1), 1, 12500000n, 'memo') }), new Uint8Array(64));
  for (let i = 0; i < 3000; i++) {
    let b;
    if (i % 3 === 0) b = Uint8Array.from({ length: r() % 200 }, () => r() & 255);
    else {
      b = Uint8Array.from(base);
      for (let k = 0; k <= r() % 4; k++) b[r() % b.length] = r() & 255;
      if (i % 3 === 2) b = b.subarray(0, r() % b.length);
    }
    for (const f of [decodeTx, (x) => verifyProof(x), decodeHeader]) {
      try {
        const d = f(b);
        if (f === decodeTx) {
          const again = concat(encodeUnsigned({ chain: d.chainId, type: d.type, sender: d.sender, nonce: d.nonce,
            fee: d.fee, expires: d.expires, payload: d.payload }), d.signature);
          assert.deepEqual(again, b, 'a decoded tx re-encodes to its bytes');
        }
        if (f !== decodeTx && f !== decodeHeader) assert.equal(typeof d.ok, 'boolean');
      } catch (e) {
        if (e.code === 'ERR_ASSERTION') throw e;
        assert.ok(e instanceof Error && e.message.length > 0, `threw a non-Error on input ${i}`);
      }
    }
  }
  for (const s of ['', 'null', '[]', '{"version":1}', '{"version":1,"kdf":{},"cipher":{},"public_key":"zz"}'])
    assert.throws(() => parseKeyFile(s), Error);
});
