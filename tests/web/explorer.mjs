#!/usr/bin/env node
// Explorer workflow in a real browser: the three chains side by side, the block holding a
// transfer, the tx decoded from its signed bytes with its signature and inclusion proof checked
// in the page, its anchor in another chain's block checked too, and pagination of a chain.
import { ok, run, startNode, launch, shot } from './lib.mjs';

await run(async (cleanup) => {
  const node = await startNode();
  cleanup.push(() => node.stop());
  // a transfer on settlement, then blocks on business (that anchor it) and more settlement
  // blocks than one page holds
  const out = JSON.parse(node.cli('tx', 'transfer', '--from', 'alice', '--to', 'bob', '--amount', '3', '--memo', 'x-ray', '--wait', '--json'));
  const id = out.id;
  node.cli('tx', 'identity', '--from', 'clinic', '--role', 'provider', '--name', 'Clinic One', '--wait');
  for (let i = 0; i < 11; i++) node.cli('tx', 'transfer', '--from', 'clinic', '--to', 'bob', '--amount', '1', '--wait');
  const tx = await (await fetch(`${node.url}/v1/txs/${id}`)).json();

  const b = await launch();
  cleanup.push(() => b.close());
  const { page } = b;
  await page.goto(node.url + '/explorer');
  for (const c of ['settlement', 'directory', 'business'])
    ok(await page.getByRole('heading', { name: new RegExp('^' + c) }).isVisible(), `explorer shows the ${c} chain`);
  await page.getByTestId('block-settlement').first().waitFor();
  ok(await page.getByTestId('block-settlement').count() === 10, 'a chain shows one page of 10 blocks, not the whole chain');
  await shot(page, 'explorer');
  await page.getByRole('navigation', { name: 'settlement pages' }).getByRole('button', { name: 'Older' }).click();
  await page.getByText(`settlement #${tx.height}`, { exact: true }).waitFor();
  ok(true, 'the older page of settlement reaches the transfer\'s block');

  await page.getByText(`settlement #${tx.height}`, { exact: true }).click();
  await page.getByRole('heading', { name: `settlement block ${tx.height}` }).waitFor();
  ok(/\/explorer\/block\/settlement\//.test(page.url()), 'the block has its own address');
  await page.getByRole('link', { name: id.slice(0, 10), exact: false }).first().click();
  await page.getByTestId('tx-status').waitFor();
  ok(await page.getByTestId('tx-status').textContent() === 'committed', 'the tx page shows it committed');
  ok(/✓/.test(await page.getByTestId('sig-check').textContent()), 'the signature is checked in the browser from the signed bytes');
  ok(/x-ray/.test(await page.getByTestId('payload').textContent()), 'the decoded payload shows the memo');
  await page.getByTestId('proof-verdict').first().waitFor({ timeout: 30000 });
  const verdicts = await page.getByTestId('proof-verdict').allTextContents();
  ok(verdicts.length >= 2 && verdicts.every((v) => /proof valid/.test(v)),
    'the inclusion proof and its anchor in another chain are valid (checked in the browser)', verdicts.join(' | '));
  ok(await page.getByText(/anchored in business/).isVisible(), 'the anchor names the business chain');
  await shot(page, 'explorer-tx');

  // reload on the app's own URL: the node serves the app for it
  await page.reload();
  await page.getByTestId('tx-status').waitFor();
  ok(true, 'a reload of /explorer/tx/… opens the same tx');

  // a block of 120 txs shows them 50 at a time
  const big = JSON.parse(node.cli('tx', 'transfer', '--from', 'clinic', '--to', 'bob', '--amount', '0.000001', '--count', '120', '--wait', '--json'));
  const bigTx = await (await fetch(`${node.url}/v1/txs/${(big.results || big)[0].id || big.id}`)).json();
  const bigBlock = await (await fetch(`${node.url}/v1/chains/settlement/blocks/${bigTx.height}`)).json();
  await page.goto(`${node.url}/explorer/block/settlement/${bigTx.height}`);
  await page.getByRole('heading', { name: `settlement block ${bigTx.height}` }).waitFor();
  const rows = await page.locator('table tbody tr').count();
  ok(bigBlock.tx_count > 50 && rows === 50 && await page.getByText(`of ${bigBlock.tx_count}`).isVisible(),
    'a block with many txs lists them 50 a page', `${rows} rows of ${bigBlock.tx_count}`);

  // search an account by address: its balances and history, read-only
  const bob = node.address('bob');
  await page.getByLabel('Tx id or account address').fill(bob);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByTestId('account-address').waitFor();
  const bobAsc = JSON.parse(node.cli('query', 'account', 'bob', '--json')).balances.asc;
  ok((await page.getByTestId('balance-asc').textContent()).replace(/[^0-9.]/g, '') === String(bobAsc / 1e6), 'an address found in the explorer shows its balance');
  await page.getByTestId('history-row').first().waitFor();
  ok(await page.getByTestId('history-row').count() === 10 && /\(1[0-9][0-9] txs\)/.test(await page.getByRole('heading', { name: /History/ }).textContent()),
    'and its history, one page of 10 of its txs');
  await page.getByLabel('Tx id or account address').fill(bob.slice(0, -1) + (bob.endsWith('q') ? 'p' : 'q'));
  await page.getByRole('button', { name: 'Find' }).click();
  ok(/typo/.test(await page.getByRole('alert').textContent()), 'a mistyped address in the search is refused');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
