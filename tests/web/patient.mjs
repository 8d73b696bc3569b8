#!/usr/bin/env node
// Patient portal in a real browser: patient P7 opens its consent key and its opening card,
// gives its consent (the decoded xchg.consent shown before signing; committed on the node,
// equal byte for byte to what the C decoder reads), a run uses its records and appears in its
// log with who, what for, when and what was paid; it revokes in the page and the next run
// leaves it out (the runs are the node's, asked as the exchange page asks: POST
// /v1/exchange/runs). An altered card is refused. Another patient moves its consent to another
// key in the page (rebind).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, run, nodeAndBrowser, shot, axe, ROOT } from './lib.mjs';
import { exchangeSetup, approveAndRun } from './exchange-setup.mjs';

const { decodeTx } = await import(join(ROOT, 'web', 'src', 'lib', 'tx.js'));
const { ready } = await import(join(ROOT, 'web', 'src', 'lib', 'crypto.js'));
const { fromHex, toHex } = await import(join(ROOT, 'web', 'src', 'lib', 'codec.js'));
const { consentPayload } = await import(join(ROOT, 'web', 'src', 'lib', 'tx.js'));

await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup, { market: true });
  const fx = exchangeSetup(node);
  const card = fx.cards.P7.card;
  node.cli('tx', 'transfer', '--from', 'alice', '--to', fx.p7, '--amount', '3', '--memo', 'thank you', '--wait');
  const get = async (p) => (await fetch(node.url + p)).json();

  await page.goto(node.url + '/patient');
  await page.getByLabel('Key file', { exact: true }).setInputFiles(join(node.home, 'keys', 'patient7.key'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByTestId('my-address').waitFor({ timeout: 30000 });

  const bad = join(node.home, 'bad-card.json');
  writeFileSync(bad, JSON.stringify({ ...card, local_id: 'P8' }));
  await page.getByLabel('Opening card').setInputFiles(bad);
  await page.getByRole('alert').waitFor();
  ok(/does not open/.test(await page.getByRole('alert').textContent()), 'an altered opening card is refused');

  await page.getByLabel('Opening card').setInputFiles(fx.cards.P7.file);
  const status = page.getByTestId('consent-status');
  await status.waitFor();
  ok(await status.textContent() === 'registered', 'the card\'s consent is shown: registered, no decision yet');
  ok(/registered as a patient/.test(await page.getByTestId('use').first().textContent()), 'the log shows the registration');

  await page.getByRole('button', { name: 'Give consent' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'xchg.consent' &&
    await page.getByTestId('review-action').textContent() === 'give' &&
    await page.getByTestId('review-patient').textContent() === card.patient &&
    await page.getByTestId('review-asset').textContent() === fx.asset, 'the consent is shown decoded (give, this commitment and asset) before signing');
  await shot(page, 'patient-review');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('consent-status').getByText('given').waitFor({ timeout: 60000 });
  const c1 = await get(`/v1/exchange/consents/${fx.asset}/${card.patient}`);
  ok(c1.status === 'given', 'the node records the consent as given', JSON.stringify(c1));
  const consentTx = (await get(`/v1/exchange/log/${card.patient}`)).events.find((e) => e.type === 'xchg.consent');
  await ready();
  const rec = await get(`/v1/exchange/receipts/${consentTx.tx}`);
  const dec = decodeTx(fromHex(rec.tx));
  ok(consentTx.by === fx.p7 && consentTx.details.action === 'give' &&
    toHex(dec.payload) === toHex(consentPayload(fromHex(fx.asset), fromHex(card.patient), 1)),
  'the committed tx is P7\'s, the C side reads "give", and its payload bytes equal the page\'s encoder', JSON.stringify(consentTx));

  // a run uses P7's records: it appears in the log with who, what for and what was paid
  const run1 = await approveAndRun(node, fx);
  ok(run1.status === 'delivered' && run1.patients_used === 12, 'the node runs it (POST /v1/exchange/runs) over the 12 consenting patients', JSON.stringify(run1).slice(0, 200));
  await page.reload();
  await page.getByLabel('Key file', { exact: true }).waitFor();
  await page.getByLabel('Key file', { exact: true }).setInputFiles(join(node.home, 'keys', 'patient7.key'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByLabel('Opening card').setInputFiles(fx.cards.P7.file);
  await page.getByText('records used in a run').waitFor({ timeout: 30000 });
  const use = await page.getByTestId('use').filter({ hasText: 'records used in a run' }).textContent();
  ok(/blood pressure by age/.test(use) && /5 ASC/.test(use) && /released/.test(use), 'the run is in P7\'s log: its purpose, the user, 5 ASC paid, escrow released', use);
  await shot(page, 'patient');

  await page.getByRole('button', { name: 'Revoke consent' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-action').textContent() === 'revoke', 'the revocation is shown decoded before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('consent-status').getByText('revoked').waitFor({ timeout: 60000 });
  ok((await get(`/v1/exchange/consents/${fx.asset}/${card.patient}`)).status === 'revoked', 'the node records the revocation');

  // the next run leaves P7 out
  const req2 = JSON.parse(node.cli('exchange', 'request', '--from', 'alice', '--asset', fx.asset, '--algorithm', 'builtin:stats',
    '--params', '{"columns":["age"]}', '--purpose', 'age distribution', '--json')).tx;
  const run2 = await approveAndRun(node, { ...fx, req: req2 });
  ok(run2.patients_used === 11 && run2.patients_left_out === 1, 'the node\'s next run leaves one patient out', JSON.stringify(run2).slice(0, 200));
  const log = (await get(`/v1/exchange/log/${fx.asset}`)).events.filter((e) => e.type === 'xchg.exec');
  ok(log.length === 2 && log[0].details.patients.includes(card.patient) && !log[1].details.patients.includes(card.patient) &&
    log[1].details.patients.length === 11, 'the run after the revocation leaves P7 out (11 patients)', JSON.stringify(log.map((e) => e.details.patients.length)));
  const p7log = (await get(`/v1/exchange/log/${card.patient}`)).events.filter((e) => e.type === 'xchg.exec');
  ok(p7log.length === 1, 'P7\'s log lists only the run that used its records');
  ok(await page.getByTestId('rewards-chart').locator('[data-testid=bar]').count() === 1, 'the rewards chart shows the credit P7\'s account received');
  // the owner pays P7 from its patient pool (the patients' share of the runs): a market reward
  node.cli('market', 'pool-pay', '--to', `${fx.p7},${node.address('bob')}`, '--amounts', '0.25,0.5', '--from', 'clinic', '--wait');
  await page.reload();
  await page.getByLabel('Key file', { exact: true }).setInputFiles(join(node.home, 'keys', 'patient7.key'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByTestId('pool-payment').first().waitFor({ timeout: 30000 });
  const pa = await page.getByTestId('pool-amount').allTextContents();
  ok(pa.length === 1 && /^0\.25 ASC/.test(pa[0].trim()), 'my rewards list the pool payment with my share only (0.25 of 0.75 ASC)', pa.join());
  await page.getByLabel('Opening card').setInputFiles(fx.cards.P7.file);

  // P7 asks for a purge of its records, signed in the page with its consent key; the owner
  // answers; the portal shows the purge, each holder's answer and the ask as purged
  await page.getByLabel('Reason for the purge').fill('I leave the study');
  await page.getByRole('button', { name: 'Ask for a purge' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'data.purge.ask' && await page.getByTestId('review-reason').textContent() === 'I leave the study' &&
    await page.getByTestId('review-patient').textContent() === card.patient, 'the purge ask is shown decoded before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('purge-ask').first().waitFor({ timeout: 60000 });
  const pp = await get(`/v1/patients/${card.patient}/purges`);
  ok(pp.asks.length === 1 && pp.asks[0].reason === 'I leave the study' && pp.asks[0].status === 'waiting', 'the node holds P7\'s ask, waiting', JSON.stringify(pp));
  ok(await page.getByTestId('purge-ask').getAttribute('data-status') === 'waiting', 'the portal shows the ask waiting');
  node.cli('data', 'purge', fx.asset, '--asks', '--key', 'clinic');
  await page.reload();
  await page.getByLabel('Key file', { exact: true }).setInputFiles(join(node.home, 'keys', 'patient7.key'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByLabel('Opening card').setInputFiles(fx.cards.P7.file);
  await page.getByTestId('purge-request').first().waitFor({ timeout: 30000 });
  const pp2 = await get(`/v1/patients/${card.patient}/purges`);
  const holders = await page.getByTestId('purge-holder').evaluateAll((rs) => rs.map((r) => r.dataset.status));
  ok(pp2.purges.length === 1 && holders.length === pp2.purges[0].holders.length &&
    holders.join() === pp2.purges[0].holders.map((h) => h.status).join(), 'the portal lists each holder with the node\'s status', JSON.stringify([holders, pp2.purges]));
  ok(await page.getByTestId('purge-ask').getAttribute('data-status') === pp2.asks[0].status, 'the ask\'s status follows the node\'s', pp2.asks[0].status);
  await shot(page, 'patient-purge');

  // P1 moves its consent to another key (bob's): only that key acts on it from now on
  await page.reload();
  await page.getByLabel('Key file', { exact: true }).setInputFiles(join(node.home, 'keys', 'patients.key'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByLabel('Opening card').setInputFiles(fx.cards.P1.file);
  await page.getByLabel('New consent key (address)').fill(node.address('bob'));
  const vRebind = await axe(page);
  ok(vRebind.length === 0, 'the consent with its rebind form: no serious or critical axe violation', JSON.stringify(vRebind));
  await page.getByRole('button', { name: 'Move my consent to this key' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-action').textContent() === 'rebind' && await page.getByTestId('review-new_key').textContent() === node.address('bob'),
    'the rebinding is shown decoded (xchg.consent, rebind, the new key) before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByText('This card\'s consent key is not the key you opened').waitFor({ timeout: 60000 });
  const p1 = await get(`/v1/exchange/consents/${fx.asset}/${fx.cards.P1.card.patient}`);
  ok(p1.key === node.address("bob") && p1.status === "given", 'the node records bob\'s key as P1\'s consent key, the consent still given', JSON.stringify(p1));
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
