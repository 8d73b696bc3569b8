// Pairing timings of the npm BLS12-381 libraries for `make bench-abe` (scripts/bench-abe.sh):
// mcl-wasm (WebAssembly) and, when its package brings a native build for this machine,
// @chainsafe/blst (blst through napi). Prints "name operation microseconds" lines.
//   pairing   one e(P, Q) (mcl-wasm: mcl.pairing; blst has no raw pairing binding)
//   verify    a BLS signature check: hash to G2 + a product of two pairings, one final
//             exponentiation (blst: verify() without group checks; mcl-wasm: hashAndMapToG2,
//             two Miller loops, finalExp)
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const mcl = require('mcl-wasm');

// microseconds of CPU time (user + system of the process) per call, as bench_abe.c measures
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
const time = (f, minMs = 1500) => {
  for (let i = 0; i < 5; i++) f();
  let n = 0; const t0 = cpu();
  let t;
  do { f(); n++; t = cpu(); } while ((t - t0) / 1e3 < minMs);
  return (t - t0) / n;
};

await mcl.init(mcl.BLS12_381);
mcl.setETHserialization(true);
mcl.setMapToMode(mcl.IRTF);
const P = mcl.hashAndMapToG1('leben bench P'), Q = mcl.hashAndMapToG2('leben bench Q');
console.log('mcl-wasm pairing', time(() => mcl.pairing(P, Q)).toFixed(1));
const msg = new Uint8Array(32).fill(7);
console.log('mcl-wasm verify', time(() => {
  const H = mcl.hashAndMapToG2(msg);
  const e = mcl.mul(mcl.millerLoop(P, H), mcl.millerLoop(mcl.neg(P), Q));
  mcl.finalExp(e);
}).toFixed(1));

let blst = null;
try { blst = require('@chainsafe/blst'); } catch (e) { console.log('blst unavailable', e.message.split('\n')[0]); }
if (blst) {
  const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(1));
  const pk = sk.toPublicKey(), sig = sk.sign(msg);
  if (!blst.verify(msg, pk, sig)) throw new Error('blst: signature does not verify');
  console.log('blst verify', time(() => blst.verify(msg, pk, sig, false, false)).toFixed(1));
}
