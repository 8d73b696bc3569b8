// Oracle for Paillier differential tests: the npm package paillier-bigint (simple variant,
// g = n + 1). Keys are JSON files {"n","lambda","mu","p","q"} of decimal strings.
//   node paillier.mjs keygen BITS            -> key JSON on stdout
//   node paillier.mjs encrypt KEY M [R]      -> ciphertext (decimal)
//   node paillier.mjs decrypt KEY C          -> plaintext (decimal)
//   node paillier.mjs add KEY C1 C2 | mul KEY C K -> ciphertext
import * as paillier from 'paillier-bigint';
import { readFileSync } from 'fs';

const [cmd, ...a] = process.argv.slice(2);
const load = (f) => {
  const j = JSON.parse(readFileSync(f, 'utf8'));
  const pub = new paillier.PublicKey(BigInt(j.n), BigInt(j.n) + 1n);
  const priv = j.lambda ? new paillier.PrivateKey(BigInt(j.lambda), BigInt(j.mu), pub, BigInt(j.p), BigInt(j.q)) : null;
  return { pub, priv };
};
if (cmd === 'keygen') {
  const { privateKey: k } = await paillier.generateRandomKeys(Number(a[0]), true);
  console.log(JSON.stringify({ n: k.publicKey.n.toString(), lambda: k.lambda.toString(), mu: k.mu.toString(), p: k._p.toString(), q: k._q.toString() }));
} else if (cmd === 'encrypt') {
  console.log(load(a[0]).pub.encrypt(BigInt(a[1]), a[2] ? BigInt(a[2]) : undefined).toString());
} else if (cmd === 'decrypt') {
  console.log(load(a[0]).priv.decrypt(BigInt(a[1])).toString());
} else if (cmd === 'add') {
  console.log(load(a[0]).pub.addition(BigInt(a[1]), BigInt(a[2])).toString());
} else if (cmd === 'mul') {
  console.log(load(a[0]).pub.multiply(BigInt(a[1]), BigInt(a[2])).toString());
} else {
  console.error('usage: see the header of paillier.mjs'); process.exit(2);
}
