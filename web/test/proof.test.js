// The page's proof check accepts the node's proofs (own block and anchored in another chain)
// and refuses them once any byte of the Merkle path, a header or the anchor is changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../../tests/web/lib.mjs';
import { ready } from '../src/lib/crypto.js';
import { fromHex } from '../src/lib/codec.js';
import { verifyProof } from '../src/lib/proof.js';

test('proofs from a real node check, altered ones do not', async () => {
  await ready();
  const node = await startNode();
  try {
    const { id } = JSON.parse(node.cli('tx', 'transfer', '--from', 'alice', '--to', 'bob', '--amount', '1', '--wait', '--json'));
    node.cli('tx', 'identity', '--from', 'clinic', '--role', 'provider', '--name', 'C', '--wait');
    for (const anchor of [null, 'business']) {
      const j = await (await fetch(`${node.url}/v1/txs/${id}/proof${anchor ? '?anchor=' + anchor : ''}`)).json();
      const p = fromHex(j.proof);
      const r = verifyProof(p, id);
      assert.ok(r.ok, JSON.stringify(r.steps));
      assert.equal(r.anchor?.chain ?? null, anchor);
      assert.ok(!verifyProof(p, 'ab'.repeat(32)).ok, 'another tx id');
      for (let i = 1; i < p.length; i += 7) {
        const q = Uint8Array.from(p);
        q[i] ^= 0x01;
        assert.ok(!verifyProof(q, id).ok, `byte ${i} of ${p.length} flipped still verifies`);
      }
      assert.ok(!verifyProof(p.subarray(0, p.length - 1), id).ok, 'truncated');
    }
  } finally {
    await node.stop();
  }
});
