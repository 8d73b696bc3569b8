// A data exchange on a test node, set up by scripts/demo-seed.sh — what `make run` gives a new
// demo node: the clinic's 12-patient table published and offered, this node granted the right
// to run requests on it (the table kept in its home), each patient's consent key registered
// (P7's is its own key `patient7`, the others share `patients`) with the opening cards written,
// every patient but P7 consenting, a store listing. alice then requests a run of the built-in
// stats (unless request is false), which waits for the clinic's approval.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, BIN } from './lib.mjs';

export function exchangeSetup(node, { request = true } = {}) {
  execFileSync(join(ROOT, 'scripts', 'demo-seed.sh'), [BIN, node.home, node.url],
    { env: { ...process.env, LEBEN_PASSPHRASE: 'demo' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const seed = JSON.parse(readFileSync(join(node.home, 'demo', 'seed.json'), 'utf8'));
  const cards = {};
  for (let n = 1; n <= 12; n++) {
    const f = join(seed.cards, `card-P${n}.json`);
    cards[`P${n}`] = { file: f, card: JSON.parse(readFileSync(f, 'utf8')) };
  }
  const p7 = JSON.parse(node.cli('keys', 'show', 'patient7', '--json')).address;
  let req = null;
  if (request) {
    req = JSON.parse(node.cli('exchange', 'request', '--from', 'alice', '--asset', seed.asset, '--algorithm', 'builtin:stats',
      '--params', '{"columns":["age","systolic","hba1c"]}', '--purpose', 'blood pressure by age, for a hypertension study', '--json')).tx;
  }
  return { asset: seed.asset, data: seed.data, cards, req, p7 };
}
// The clinic approves and alice escrows (CLI); the node runs it as the web app asks it to
// (POST /v1/exchange/runs, followed until it ends). The run's JSON.
export async function approveAndRun(node, fx, { approve = true } = {}) {
  if (approve) node.cli('exchange', 'approve', '--from', 'clinic', '--request', fx.req, '--reason', 'aggregate statistics only');
  const esc = JSON.parse(node.cli('exchange', 'escrow', '--from', 'alice', '--request', fx.req, '--executor', 'node', '--compute-fee', '2', '--json')).escrow;
  let r = await (await fetch(`${node.url}/v1/exchange/runs`, { method: 'POST', body: JSON.stringify({ request: fx.req, escrow: esc }) })).json();
  for (let i = 0; r.status === 'running' && i < 600; i++) {
    await new Promise((ok) => setTimeout(ok, 200));
    r = await (await fetch(`${node.url}/v1/exchange/runs/${esc}`)).json();
  }
  if (r.status !== 'done') throw new Error(`the node's run did not end well: ${JSON.stringify(r)}`);
  return r.run;
}
