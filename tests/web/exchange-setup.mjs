// A data exchange set up through the CLI on a test node (as examples/exchange-demo.sh does):
// the clinic publishes and offers a 12-patient table, grants its node the execution right,
// keeps the table in the node's home for runs; registers each patient's consent key (P7's is its own key `patient7`, the others share
// `patients`) and writes the opening cards; every patient but P7 consents. alice requests a run
// of the built-in stats, which waits for the clinic's approval.
import { writeFileSync, readFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

export function exchangeSetup(node, { request = true } = {}) {
  const { cli, home } = node;
  cli('keys', 'new', 'patient7');
  cli('keys', 'new', 'patients');
  const data = join(home, 'cohort.csv');
  let rows = 'patient_id,age,systolic,hba1c\n';
  for (let n = 1; n <= 12; n++) rows += `P${n},${40 + n * 3},${118 + n * 2},${50 + n % 5}\n`;
  writeFileSync(data, rows);
  const reg = JSON.parse(cli('data', 'add', data, '--key', 'clinic', '--price', '5', '--name', 'hypertension cohort', '--json')).tx;
  cli('tx', 'identity', '--from', 'clinic', '--role', 'provider', '--name', 'St. Anna Clinic', '--wait');
  cli('tx', 'transfer', '--from', 'clinic', '--to', 'node', '--amount', '10', '--asset', 'csc', '--wait');
  const asset = JSON.parse(cli('exchange', 'offer', '--from', 'clinic', '--asset-tx', reg, '--price', '5', '--min-cohort', '10',
    '--data', data, '--json')).asset;
  cli('exchange', 'grant', '--from', 'clinic', '--asset', asset, '--executor', 'node', '--kind', 'own');
  // the owner's table kept in the node's home: the node runs requests over it (POST /v1/exchange/runs)
  mkdirSync(join(home, 'exchange', 'assets'), { recursive: true });
  copyFileSync(data, join(home, 'exchange', 'assets', `${asset}.csv`));
  const addr = (k) => JSON.parse(cli('keys', 'show', k, '--json')).address;
  const p7 = addr('patient7'), px = addr('patients');
  const keys = join(home, 'patient-keys.csv');
  writeFileSync(keys, 'local_id,address\n' + Array.from({ length: 12 }, (_, i) => `P${i + 1},${i + 1 === 7 ? p7 : px}\n`).join(''));
  cli('exchange', 'patients', '--from', 'clinic', '--asset', asset, '--data', data, '--keys', keys, '--out', join(home, 'cards'));
  const cards = {};
  for (let n = 1; n <= 12; n++) {
    const f = join(home, `card-P${n}.json`);
    cli('exchange', 'opening', '--asset', asset, '--patient', `P${n}`, '--out', f);
    cards[`P${n}`] = { file: f, card: JSON.parse(readFileSync(f, 'utf8')) };
    if (n !== 7) cli('exchange', 'consent', '--from', 'patients', '--opening', f);
  }
  let req = null;
  if (request) {
    req = JSON.parse(cli('exchange', 'request', '--from', 'alice', '--asset', asset, '--algorithm', 'builtin:stats',
      '--params', '{"columns":["age","systolic","hba1c"]}', '--purpose', 'blood pressure by age, for a hypertension study', '--json')).tx;
  }
  return { asset, data, cards, req, p7 };
}

// The clinic approves, alice escrows, the node runs (CLI), as the demo's steps 7-11.
export function approveAndRun(node, fx, { approve = true } = {}) {
  if (approve) node.cli('exchange', 'approve', '--from', 'clinic', '--request', fx.req, '--reason', 'aggregate statistics only');
  const esc = JSON.parse(node.cli('exchange', 'escrow', '--from', 'alice', '--request', fx.req, '--executor', 'node', '--compute-fee', '2', '--json')).escrow;
  node.cli('exchange', 'run', '--from', 'node', '--request', fx.req, '--escrow', esc, '--data', fx.data);
  return esc;
}
