#!/usr/bin/env node
// make bench-web: the app's bytes transferred on first load (gzip, as Chromium receives them),
// and the explorer's time to interactive on a node holding BENCH_WEB_TXS txs (default 100000):
// from navigation to the three chains' first block pages on screen.
import { readdirSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { run, startNode, launch, ok, ROOT } from './lib.mjs';

const N = Number(process.env.BENCH_WEB_TXS || 100000);
const BATCH = 5000;

await run(async (cleanup) => {
  const node = await startNode();
  cleanup.push(() => node.stop());
  const t0 = Date.now();
  for (let sent = 0; sent < N; sent += BATCH) {
    const n = Math.min(BATCH, N - sent);
    node.cli('tx', 'transfer', '--from', 'clinic', '--to', 'bob', '--amount', '0.000001', '--count', String(n), '--wait');
  }
  const st = await (await fetch(node.url + '/v1/status')).json();
  console.log(`# node holds ${N} txs in ${st.chains.settlement.height} settlement blocks (loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const b = await launch();
  cleanup.push(() => b.close());
  const { page } = b;
  let bytes = 0, files = 0;
  page.on('requestfinished', async (r) => {
    const s = await r.sizes();
    bytes += s.responseBodySize + s.responseHeadersSize;
    files++;
  });
  const nav = Date.now();
  await page.goto(node.url + '/explorer');
  await Promise.all(['settlement', 'directory', 'business'].map((c) => page.getByTestId(`block-${c}`).first().waitFor({ timeout: 60000 })));
  const tti = Date.now() - nav;
  await page.waitForLoadState('networkidle');
  const first = bytes, firstFiles = files;
  console.log(`first load of /explorer: ${(first / 1024).toFixed(1)} KiB transferred in ${firstFiles} responses (gzip)`);
  console.log(`explorer time to interactive with ${N} txs: ${tti} ms`);
  // a tx page also fetches libsodium for the proof check
  bytes = 0; files = 0;
  const blk = await (await fetch(`${node.url}/v1/chains/settlement/blocks/latest`)).json();
  await page.goto(`${node.url}/explorer/tx/${blk.txs[0].id}`);
  await page.getByTestId('proof-verdict').first().waitFor({ timeout: 60000 });
  await page.waitForLoadState('networkidle');
  console.log(`opening a tx page (cached app + libsodium + API): ${(bytes / 1024).toFixed(1)} KiB in ${files} responses`);
  // the designer: the largest example contract, from choosing the file to every task drawn
  const largest = readdirSync(join(ROOT, 'examples', 'contracts')).filter((f) => f.endsWith('.pf'))
    .map((f) => join(ROOT, 'examples', 'contracts', f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  await page.goto(node.url + '/designer');
  await page.getByTestId('graph').waitFor();
  const d0 = Date.now();
  await page.getByLabel('Open a contract').setInputFiles(largest);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid^=task-]').length >= n && document.querySelector('[data-testid=pf-text]').value.length > 0,
    1, { timeout: 30000 });
  const tasks = await page.locator('[data-testid^=task-]').count();
  console.log(`knowledge designer render time (${basename(largest)}, ${statSync(largest).size} bytes, ${tasks} top-level tasks drawn, both text views filled): ${Date.now() - d0} ms`);
  ok(tti > 0 && first > 0, 'bench-web ran');
});
