#!/usr/bin/env node
// Economy charts in a real browser: a market node with 3-block periods, the developers pool
// funded by the credit partner; the node closes periods by itself; the monitoring page draws
// the pools, the CSC allotted per closed period and the latest ranking as the node reports them.
import { readFileSync, writeFileSync } from 'node:fs';
import { ok, run, nodeAndBrowser, shot } from './lib.mjs';

await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup, { market: true, genesis: (f) => {
    const g = JSON.parse(readFileSync(f, 'utf8'));
    g.market.period_blocks = 3;
    writeFileSync(f, JSON.stringify(g));
  } });
  const get = async (p) => (await fetch(node.url + p)).json();
  node.cli('tx', 'issue', '--from', 'bank', '--to', 'bank', '--amount', '20', '--wait');
  node.cli('market', 'fund', '--pool', 'developers', '--amount', '10', '--from', 'bank', '--wait');
  for (let i = 0; i < 8; i++) node.cli('tx', 'transfer', '--from', 'alice', '--to', 'bob', '--amount', '1', '--wait');
  let m = await get('/v1/market');
  for (let i = 0; i < 50 && m.next_period < 2; i++) { await new Promise((r) => setTimeout(r, 200)); m = await get('/v1/market'); }
  ok(m.next_period >= 2, 'the node closed periods by itself', JSON.stringify(m.next_period));
  await page.goto(node.url + '/monitor');
  await page.getByTestId('economy').waitFor({ timeout: 20000 });
  m = await get('/v1/market');
  const closed = await page.getByTestId('closed-periods').textContent();
  ok(parseInt(closed, 10) >= 2, 'the page shows the closed periods', closed);
  const n = parseInt(closed, 10);
  const last = await get(`/v1/market/rankings/${n - 1}`);
  const bars = await page.getByTestId('allotted-developers').locator('[data-testid=bar]').count();
  ok(bars === Math.min(n, 8), 'one bar per closed period (at most 8)', String(bars));
  const label = await page.getByTestId('allotted-developers').locator('svg').getAttribute('aria-label');
  ok(label.includes(`#${n - 1} ${+(last.developers.allotted_csc / 1e6).toFixed(2)}`), 'the last period\'s bar is the CSC the node says the pool allotted', label);
  const pools = await page.getByTestId('pools-chart').locator('svg').getAttribute('aria-label');
  const dev = (await get('/v1/market')).pools.developers;
  ok(pools.includes(`developers pending ${+(dev.csc_pending / 1e6).toFixed(2)}`) || pools.includes('developers pending'), 'the pools chart draws the developers pool', pools);
  ok(await page.getByTestId('ranking-developers').count() === 1, 'the latest ranking is drawn');
  await shot(page, 'economy');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
