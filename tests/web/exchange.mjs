#!/usr/bin/env node
// Exchange workflow in a real browser: the clinic's offer and alice's requests are listed; the
// clinic opens its key, sees the approval queue with the algorithm's hash and the offer's
// output policy, rejects one request and approves the other in the page (each xchg.approve
// shown decoded before signing, committed on the node); the escrow is opened and the run made
// (CLI, as an executor does); the request's page shows the escrow released and the run log, and
// alice's key opens the sealed result in the browser — checked against the hash on the chain
// and byte-equal to what `leben exchange result` opens. Another key cannot open it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, run, nodeAndBrowser, shot, ROOT } from './lib.mjs';
import { exchangeSetup, approveAndRun } from './exchange-setup.mjs';

const { ready, hash } = await import(join(ROOT, 'web', 'src', 'lib', 'crypto.js'));
const { toHex } = await import(join(ROOT, 'web', 'src', 'lib', 'codec.js'));

async function openKey(page, node, name) {
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile(name));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByTestId('my-address').waitFor({ timeout: 30000 });
}

await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup);
  const fx = exchangeSetup(node);
  const req2 = JSON.parse(node.cli('exchange', 'request', '--from', 'bob', '--asset', fx.asset, '--algorithm', 'builtin:stats',
    '--params', '{"columns":["patient_id"]}', '--purpose', 'list every patient', '--json')).tx;
  const get = async (p) => (await fetch(node.url + p)).json();
  await ready();
  const statsHash = toHex(hash('LEBEN-algo-builtin-v1', new TextEncoder().encode('stats')));

  await page.goto(node.url + '/exchange');
  await page.getByTestId('offer').first().waitFor({ timeout: 30000 });
  ok(/hypertension cohort/.test(await page.getByTestId('offer').first().textContent()), 'the clinic\'s offer is listed by its directory name');
  ok(await page.getByTestId('request-row').count() === 2 && (await page.getByTestId('request-status').allTextContents()).every((t) => t === 'pending'),
    'both requests are listed, pending');

  await openKey(page, node, 'clinic');
  await page.getByTestId('queue-item').first().waitFor();
  ok(await page.getByTestId('queue-item').count() === 2, 'the clinic\'s approval queue holds the two requests');
  const item2 = page.getByTestId('queue-item').filter({ hasText: 'list every patient' });
  ok(await item2.getByTestId('queue-algorithm').textContent() === statsHash, 'the queue shows the algorithm\'s hash (the built-in stats)');
  ok(/Minimum cohort10 patients/.test(await item2.getByTestId('policy').textContent()), 'and the offer\'s output policy (minimum cohort 10)');
  await shot(page, 'exchange-queue');
  await item2.getByLabel('Reason').fill('row-level output is not allowed');
  await item2.getByRole('button', { name: 'Reject' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'xchg.approve' && await page.getByTestId('review-decision').textContent() === 'reject' &&
    await page.getByTestId('review-request').textContent() === req2, 'the rejection is shown decoded (xchg.approve, reject, this request) before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('decision-result').getByText('committed').waitFor({ timeout: 60000 });
  ok((await get(`/v1/exchange/requests/${req2}`)).status === 'rejected', 'the node records the request as rejected');
  await page.getByTestId('queue-item').nth(1).waitFor({ state: 'detached', timeout: 20000 });
  const item1 = page.getByTestId('queue-item').first();
  ok(/blood pressure by age/.test(await item1.textContent()), 'the queue now holds the other request only');
  await item1.getByLabel('Reason').fill('aggregate statistics only');
  await item1.getByRole('button', { name: 'Approve' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-decision').textContent() === 'approve', 'the approval is shown decoded before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByText('Nothing waits for your decision.').waitFor({ timeout: 60000 });
  const r1 = await get(`/v1/exchange/requests/${fx.req}`);
  ok(r1.status === 'approved' && r1.approved_by === 'owner', 'the node records the approval by the owner', JSON.stringify(r1.status));

  // the user escrows, the executor runs (CLI)
  approveAndRun(node, fx, { approve: false });
  await page.goto(`${node.url}/exchange/request/${fx.req}`);
  await page.getByTestId('escrow-status').waitFor({ timeout: 30000 });
  ok(await page.getByTestId('escrow-status').textContent() === 'released', 'the request\'s page shows the escrow released');
  const events = await page.getByTestId('log-event').allTextContents();
  ok(events.some((t) => /approve/.test(t)) && events.some((t) => /local, 11 patients/.test(t)) && events.some((t) => /delivered/.test(t)),
    'the run log shows the approval, the run (local, the 11 consenting patients) and the delivered result', events.join(' | '));
  ok(/matches the hash/.test(await page.getByTestId('result-hash').textContent()), 'the sealed result is checked against the hash on the chain');

  await openKey(page, node, 'bob');
  await page.getByRole('button', { name: 'Open the result' }).click();
  await page.getByRole('alert').waitFor();
  ok(/only the user who made the request/.test(await page.getByRole('alert').textContent()), 'another key cannot open the result');
  await page.getByRole('button', { name: 'Close key' }).click();
  await openKey(page, node, 'alice');
  await page.getByRole('button', { name: 'Open the result' }).click();
  await page.getByTestId('result-text').waitFor();
  const out = join(node.home, 'result.json');
  node.cli('exchange', 'result', '--from', 'alice', '--request', fx.req, '--out', out);
  const shown = await page.getByTestId('result-text').textContent();
  ok(shown === readFileSync(out, 'utf8') && JSON.parse(shown).n !== undefined, 'alice opens the result in the browser: equal to what `leben exchange result` opens',
    shown.slice(0, 200));
  await shot(page, 'exchange-request');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
