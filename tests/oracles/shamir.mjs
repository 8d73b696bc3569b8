// Oracle for Shamir differential tests: the npm package `shamir-secret-sharing`.
//   node shamir.mjs split HEXSECRET N T     -> one hex share per line
//   node shamir.mjs combine HEXSHARE...     -> hex secret
import { split, combine } from 'shamir-secret-sharing';

const hex = (u) => Buffer.from(u).toString('hex');
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'split') {
  const shares = await split(unhex(args[0]), Number(args[1]), Number(args[2]));
  for (const s of shares) console.log(hex(s));
} else if (cmd === 'combine') {
  console.log(hex(await combine(args.map(unhex))));
} else {
  console.error('usage: shamir.mjs split HEX N T | combine SHARE...');
  process.exit(2);
}
