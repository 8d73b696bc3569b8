#!/usr/bin/env node
// Exchange workflow in a real browser, no CLI step between the offer and the opened result:
// alice makes a request of the clinic's offer in the page (the built-in stats by its hash,
// xchg.request shown decoded and signed here); the clinic opens its key, sees the approval
// queue with the algorithm's hash and the offer's output policy, rejects bob's request and
// approves alice's (each xchg.approve shown decoded before signing); alice pays into escrow in
// the page (the terms from the node's dry run, escrow.open decoded and signed here) and asks the
// node to run it (POST /v1/exchange/runs: the node, the escrow's executor, runs it as `leben
// exchange run` does); the request's page shows the escrow released and the run log (11 of 12
// patients: P7 has not consented), and alice's key opens the sealed result in the browser —
// checked against the hash on the chain and byte-equal to what `leben exchange result` opens.
// Another key cannot open it; a run the node is not the executor of is refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, run, nodeAndBrowser, shot, axe, ROOT } from './lib.mjs';
import { exchangeSetup } from './exchange-setup.mjs';

const { ready, hash } = await import(join(ROOT, 'web', 'src', 'lib', 'crypto.js'));
const { toHex, fromHex } = await import(join(ROOT, 'web', 'src', 'lib', 'codec.js'));
const { decodeTx, requestPayload, escrowOpenPayload } = await import(join(ROOT, 'web', 'src', 'lib', 'tx.js'));
const { addressDecode } = await import(join(ROOT, 'web', 'src', 'lib', 'address.js'));
// the payload of a committed tx, as the node holds its bytes
const payloadOf = async (url, id) => decodeTx(fromHex((await (await fetch(`${url}/v1/txs/${id}/proof`)).json()).tx)).payload;

async function openKey(page, node, name) {
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile(name));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByTestId('my-address').waitFor({ timeout: 30000 });
}

await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup);
  const fx = exchangeSetup(node, { request: false });
  const req2 = JSON.parse(node.cli('exchange', 'request', '--from', 'bob', '--asset', fx.asset, '--algorithm', 'builtin:stats',
    '--params', '{"columns":["patient_id"]}', '--purpose', 'list every patient', '--json')).tx;
  const get = async (p) => (await fetch(node.url + p)).json();
  await ready();
  const statsHash = toHex(hash('LEBEN-algo-builtin-v1', new TextEncoder().encode('stats')));

  await page.goto(node.url + '/exchange');
  await page.getByTestId('offer').first().waitFor({ timeout: 30000 });
  ok(/hypertension cohort/.test(await page.getByTestId('offer').first().textContent()), 'the clinic\'s offer is listed by its directory name');
  ok(await page.getByTestId('request-row').count() === 1, 'bob\'s request is listed');

  // alice makes her request in the page
  await openKey(page, node, 'alice');
  const form = page.getByTestId('request-form');
  await form.waitFor();
  ok(await form.getByTestId('request-algorithm').textContent() === statsHash, 'the request form shows the chosen algorithm\'s hash (built-in stats)');
  await form.getByLabel('Parameters (JSON)').fill('{"columns":["age","systolic","hba1c"]}');
  await form.getByLabel('Purpose').fill('blood pressure by age, for a hypertension study');
  await shot(page, 'exchange-request-form');
  const vForm = await axe(page);
  ok(vForm.length === 0, 'the request form: no serious or critical axe violation', JSON.stringify(vForm));
  await form.getByRole('button', { name: 'Review the request' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'xchg.request' && await page.getByTestId('review-algorithm').textContent() === statsHash &&
    await page.getByTestId('review-asset').textContent() === fx.asset && /hypertension study/.test(await page.getByTestId('review-purpose').textContent()),
  'the request is shown decoded (xchg.request, this asset, the algorithm\'s hash, the purpose) before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('request-made').waitFor({ timeout: 60000 });
  const reqLink = await page.getByTestId('request-made').getByRole('link').getAttribute('href');
  fx.req = reqLink.split('/').pop();
  const r0 = await get(`/v1/exchange/requests/${fx.req}`);
  ok(r0.status === 'pending' && r0.user === node.address('alice') && r0.algorithm === statsHash, 'the node holds alice\'s request, pending', JSON.stringify(r0).slice(0, 300));
  await page.getByRole('button', { name: 'Close key' }).click();

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
  await page.getByRole('button', { name: 'Close key' }).click();

  // alice pays into escrow in the page and asks the node to run it
  await page.goto(`${node.url}/exchange/request/${fx.req}`);
  await openKey(page, node, 'alice');
  const ef = page.getByTestId('escrow-form');
  await ef.waitFor({ timeout: 30000 });
  ok(await ef.getByLabel('Executor (address)').inputValue() === node.address('node'), 'the escrow form names this node as the executor');
  const vEsc = await axe(page);
  ok(vEsc.length === 0, 'the escrow form: no serious or critical axe violation', JSON.stringify(vEsc));
  const aliceBefore = JSON.parse(node.cli('query', 'account', 'alice', '--json')).balances;
  await ef.getByRole('button', { name: 'Review the escrow' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'escrow.open' && await page.getByTestId('review-request').textContent() === fx.req &&
    await page.getByTestId('review-executor').textContent() === node.address('node') && await page.getByTestId('review-data_fee').textContent() === '5000000' &&
    await page.getByTestId('review-compute_fee').textContent() === '2000000' && await page.getByTestId('review-owner').textContent() === node.address('clinic'),
  'the escrow is shown decoded (escrow.open, this request, the clinic paid 5 ASC, this node 2 CSC) before signing');
  await shot(page, 'exchange-escrow');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('escrow-status').getByText('open').waitFor({ timeout: 60000 });
  const aliceLocked = JSON.parse(node.cli('query', 'account', 'alice', '--json')).balances;
  ok(aliceBefore.asc - aliceLocked.asc === 5e6, 'the node locked alice\'s 5 ASC in the escrow', `${aliceBefore.asc} -> ${aliceLocked.asc}`);
  const esc = (await page.getByTestId('escrow').getByRole('link').last().getAttribute('href')).split('/').pop();
  const foreign = await fetch(node.url + '/v1/exchange/runs', { method: 'POST', body: JSON.stringify({ request: req2, escrow: esc }) });
  ok(foreign.status === 422 && /pays for request/.test((await foreign.json()).error.message), 'a run naming another request than the escrow\'s is refused');
  const unknown = await fetch(`${node.url}/v1/exchange/runs/${esc}`);
  ok(unknown.status === 404, 'no run of this escrow was asked yet');
  await page.getByRole('button', { name: 'Run it on this node' }).click();
  await page.getByTestId('escrow-status').getByText('released').waitFor({ timeout: 90000 });
  ok(true, 'the node ran the request and released the escrow');
  const state = await get(`/v1/exchange/runs/${esc}`);
  ok(state.status === 'done' && state.run.status === 'delivered' && state.run.patients_used === 11 && state.run.patients_left_out === 1,
    'the node reports the run done: delivered over 11 patients, P7 (no consent) left out', JSON.stringify(state).slice(0, 300));
  const again = await fetch(node.url + '/v1/exchange/runs', { method: 'POST', body: JSON.stringify({ request: fx.req, escrow: esc }) });
  ok(again.status === 422 && /released, not open/.test((await again.json()).error.message), 'asked again, the node refuses: the escrow is released');
  const events = await page.getByTestId('log-event').allTextContents();
  ok(events.some((t) => /approve/.test(t)) && events.some((t) => /local, 11 patients/.test(t)) && events.some((t) => /delivered/.test(t)),
    'the run log shows the approval, the run (local, the 11 consenting patients) and the delivered result', events.join(' | '));
  ok(/matches the hash/.test(await page.getByTestId('result-hash').textContent()), 'the sealed result is checked against the hash on the chain');

  await page.getByRole('button', { name: 'Close key' }).click();
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

  // the run route guards the executor's key: only escrows naming this node, well-formed asks
  const req3 = JSON.parse(node.cli('exchange', 'request', '--from', 'alice', '--asset', fx.asset, '--algorithm', 'builtin:stats',
    '--params', '{"columns":["age"]}', '--purpose', 'age only', '--json')).tx;
  node.cli('exchange', 'approve', '--from', 'clinic', '--request', req3, '--reason', 'fine');
  const esc3 = JSON.parse(node.cli('exchange', 'escrow', '--from', 'alice', '--request', req3, '--executor', 'clinic', '--compute-fee', '1', '--json')).escrow;
  const other = await fetch(node.url + '/v1/exchange/runs', { method: 'POST', body: JSON.stringify({ request: req3, escrow: esc3 }) });
  const otherJ = await other.json();
  ok(other.status === 403 && /names executor/.test(otherJ.error.message), 'an escrow naming another executor (the clinic) is not run by this node', JSON.stringify(otherJ));
  ok((await get(`/v1/exchange/escrows/${esc3}`)).status === 'open', 'and stays open, untouched');
  const bad = await fetch(node.url + '/v1/exchange/runs', { method: 'POST', body: JSON.stringify({ request: req3.slice(2), escrow: esc3 }) });
  ok(bad.status === 400, 'a malformed request id is refused (400)');

  // the page's encoders give the C encoder's bytes: the CLI's xchg.request and escrow.open
  const reqBytes = await payloadOf(node.url, req3);
  ok(toHex(reqBytes) === toHex(requestPayload(fromHex(fx.asset), fromHex(statsHash), 0, 'age only', '{"columns":["age"]}')),
    'xchg.request: the page\'s payload equals the CLI\'s bytes');
  const escTx = decodeTx(fromHex((await (await fetch(`${node.url}/v1/txs/${esc3}/proof`)).json()).tx));
  const t = escTx.fields;
  ok(escTx.typeName === 'escrow.open' && toHex(escTx.payload) === toHex(escrowOpenPayload({ user: addressDecode(t.user), request: fromHex(t.request),
    owner: addressDecode(t.owner), data_fee: t.data_fee, author: addressDecode(t.author), algo_fee: t.algo_fee, executor: addressDecode(t.executor),
    compute_fee: t.compute_fee }, t.timeout_height)) && t.executor === node.address('clinic') && t.compute_fee === 1000000n,
  'escrow.open: the page decodes the CLI\'s escrow field by field and re-encodes the same bytes', JSON.stringify(t, (k, v) => (typeof v === 'bigint' ? String(v) : v)));
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
