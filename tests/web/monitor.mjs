#!/usr/bin/env node
// Monitoring in a real browser: node health from /v1/status, and the live charts follow the
// node — after txs are committed, the settlement height, block time and throughput move.
import { ok, run, startNode, launch, shot } from './lib.mjs';

await run(async (cleanup) => {
  const node = await startNode();
  cleanup.push(() => node.stop());
  node.cli('tx', 'transfer', '--from', 'alice', '--to', 'bob', '--amount', '1', '--wait');
  const b = await launch();
  cleanup.push(() => b.close());
  const { page } = b;
  await page.goto(node.url + '/monitor');
  await page.getByTestId('serving').waitFor();
  ok(await page.getByTestId('serving').textContent() === 'yes', 'health shows the node serving');
  ok(await page.getByText('solo, available').isVisible(), 'health shows the ordering backend and that it is available');
  await page.getByTestId('height-settlement').getByText('height 1,').waitFor();
  ok(true, 'health shows the settlement height');
  // more traffic while the page is open: 3 blocks of 20 txs
  for (let i = 0; i < 3; i++) node.cli('tx', 'transfer', '--from', 'clinic', '--to', 'bob', '--amount', '1', '--count', '20', '--wait');
  await page.getByTestId('height-settlement').getByText(/height [4-9],/).waitFor({ timeout: 15000 });
  ok(true, 'the settlement height follows new blocks without a reload');
  await page.waitForFunction(() => /[0-9.]+ tx\/s/.test(document.querySelector('[data-testid="tps-settlement"]')?.textContent || '') &&
    parseFloat(document.querySelector('[data-testid="tps-settlement"]').textContent) > 0, null, { timeout: 10000 });
  ok(true, 'the throughput chart shows a rate above 0 tx/s');
  ok(/[0-9.]+ s/.test(await page.getByTestId('bt-settlement').textContent()), 'the block time chart has a value in seconds');
  ok(await page.locator('svg circle').count() > 5, 'the charts have points');
  await page.waitForTimeout(2500);
  await shot(page, 'monitoring');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
