#!/usr/bin/env node
// Directory workflow in a real browser: an asset published with `leben data add` (a private
// description sealed to bob) is found by the page's search, its facets, history and audit
// chart shown; bob's key file opens the private part in the browser after the page logs the
// view (xchg.view signed in the page, committed on the node), and the fields equal what
// `leben data show --private` opens in C; alice, not a reader, is told so and nothing is logged.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, run, nodeAndBrowser, shot } from './lib.mjs';

await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup);
  const csv = join(node.home, 'ward7_bp.csv');
  let rows = 'patient_id,age,sbp\n';
  for (let i = 1; i <= 40; i++) rows += `p${i},${30 + i},${110 + (i * 7) % 50}\n`;
  writeFileSync(csv, rows);
  const bobPk = JSON.parse(readFileSync(node.keyFile('bob'), 'utf8')).public_key;
  const added = JSON.parse(node.cli('data', 'add', csv, '--json', '--description', 'Ward 7 blood pressure, night shift',
    '--private', 'basic.description', '--readers', bobPk, '--subject', 'hypertension', '--keyword', 'ward seven'));
  const asset = added.asset_id;

  await page.goto(node.url + '/directory');
  await page.getByLabel('Words').fill('hypertensoin'); // a typo: forgiven as the CLI forgives it
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByTestId('search-hit').first().waitFor({ timeout: 20000 });
  const cliHits = JSON.parse(node.cli('data', 'search', 'hypertensoin', '--directory', '--json')).results.map((r) => r.id);
  const hits = await page.getByTestId('search-hit').allTextContents();
  ok(hits.length === cliHits.length && hits[0].includes('ward7_bp.csv'), 'the page finds what `leben data search --directory` finds', JSON.stringify([hits, cliHits]));
  await page.getByLabel('Words').fill('night shift');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText(/^0 results/).waitFor();
  ok(true, 'the private description is not searchable');
  await page.getByLabel('Words').fill('hypertension');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await shot(page, 'directory');
  await page.getByRole('link', { name: 'ward7_bp.csv' }).click();
  await page.getByTestId('asset-name').waitFor();
  ok(new URL(page.url()).pathname === `/directory/asset/${asset}`, 'the hit opens the asset\'s page');
  ok(await page.getByTestId('facet-semantic-subject').textContent() === 'hypertension', 'the semantic facet shows the subject');
  ok(/rows/.test(await page.getByTestId('facet-data-features').textContent()), 'the data facet shows the table\'s features');
  ok(/Not public: description/.test(await page.getByTestId('facet-basic').textContent()), 'the basic facet says the description is not public');
  ok((await page.getByTestId('facet-basic').textContent()).indexOf('night shift') < 0, 'and does not show it');
  ok(await page.getByTestId('history-event').count() === 1 && /register/.test(await page.getByTestId('history-event').first().textContent()),
    'the history lists the registration');
  ok(await page.getByTestId('audit-chart').locator('[data-testid=bar]').count() === 1 &&
    /v1 100/.test(await page.getByTestId('audit-chart').locator('svg').getAttribute('aria-label')), 'the audit chart draws the version\'s score');
  ok(/none yet/.test(await page.getByTestId('audit-status').textContent()), 'the audit that counts: none yet');

  const views = async () => (JSON.parse((await (await fetch(`${node.url}/v1/exchange/log/${asset}`)).text())).events || []).filter((e) => e.type === 'xchg.view');
  // alice is not a reader: told so before anything is logged
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile('alice'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByRole('button', { name: 'Log the view and open' }).click();
  await page.getByRole('alert').waitFor();
  ok(/not authorised/.test(await page.getByRole('alert').textContent()), 'a key that is not a reader is told it is not authorised');
  ok((await views()).length === 0, 'and no view was logged for it');
  await page.getByRole('button', { name: 'close key' }).click();

  // bob is a reader
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile('bob'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByRole('button', { name: 'Log the view and open' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'xchg.view' && await page.getByTestId('review-asset').textContent() === asset,
    'the view tx is shown decoded (xchg.view of this asset) before signing');
  await shot(page, 'directory-review');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('private-part').waitFor({ timeout: 60000 });
  const v = await views();
  ok(v.length === 1 && v[0].by === node.address('bob'), 'the view is committed in the asset\'s log, signed by bob', JSON.stringify(v));
  ok(await page.getByTestId('private-basic-description').textContent() === 'Ward 7 blood pressure, night shift', 'the private description is opened in the browser');
  const c = JSON.parse(node.cli('data', 'show', asset, '--private', '--key', 'bob', '--json')).private;
  const shown = JSON.parse(await page.getByTestId('private-json').textContent());
  ok(JSON.stringify(shown) === JSON.stringify(c) && c.basic.description === 'Ward 7 blood pressure, night shift',
    'the fields equal what the C side opens (leben data show --private --json), key order included', JSON.stringify([shown, c]));
  await shot(page, 'directory-asset');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
