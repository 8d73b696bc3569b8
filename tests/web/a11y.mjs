#!/usr/bin/env node
// Every page on a phone-sized screen (390×844): nothing wider than the screen, the pages
// reachable from the keyboard, and axe-core finds no serious or critical violation (desktop
// and phone).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, run, startNode, launch, signIn, shot, axe, ROOT } from './lib.mjs';

await run(async (cleanup) => {
  const node = await startNode();
  cleanup.push(() => node.stop());
  const { id } = JSON.parse(node.cli('tx', 'transfer', '--from', 'alice', '--to', 'bob', '--amount', '2', '--wait', '--json'));
  const csv = join(node.home, 'bp.csv');
  writeFileSync(csv, 'patient_id,age,sbp\n' + Array.from({ length: 20 }, (_, i) => `p${i},${40 + i},${120 + i}\n`).join(''));
  const asset = JSON.parse(node.cli('data', 'add', csv, '--json', '--subject', 'hypertension', '--description', 'a private note',
    '--private', 'basic.description')).asset_id;
  const contract = JSON.parse(node.cli('contract', 'publish', join(ROOT, 'examples', 'contracts', 'hypertension.pf'), '--key', 'clinic', '--json')).contract;
  node.cli('store', 'add', contract, '--title', 'Hypertension', '--specialty', 'cardiology', '--price-call', '1', '--from', 'clinic');
  const listing = JSON.parse(await (await fetch(node.url + '/v1/store/listings')).text()).listings[0].id;
  const b = await launch();
  cleanup.push(() => b.close());
  const { page } = b;
  const pages = [
    ['wallet sign-in', '/wallet', null],
    ['explorer', '/explorer', 'block-settlement'],
    ['explorer tx', `/explorer/tx/${id}`, 'proof-verdict'],
    ['monitoring', '/monitor', 'serving'],
    ['directory search', '/directory?q=hypertension', 'search-hit'],
    ['directory asset', `/directory/asset/${asset}`, 'audit-chart'],
    ['patient portal sign-in', '/patient', { button: 'Open key file' }],
    ['exchange', '/exchange', { button: 'Open key file' }],
    ['designer', '/designer', 'graph'],
    ['store', '/store', { button: 'Previous' }],
    ['store listing', `/store/listing/${listing}`, 'family-tree'],
  ];
  for (const phone of [false, true]) {
    await page.setViewportSize(phone ? { width: 390, height: 844 } : { width: 1280, height: 900 });
    const where = phone ? 'phone' : 'desktop';
    for (const [name, path, wait] of pages) {
      await page.goto(node.url + path);
      if (wait && wait.button) await page.getByRole('button', { name: wait.button }).waitFor();
      else if (wait) await page.getByTestId(wait).first().waitFor({ timeout: 30000 });
      else await page.getByRole('button', { name: 'Open wallet' }).waitFor();
      const v = await axe(page);
      ok(v.length === 0, `${name} (${where}): no serious or critical axe violations`, JSON.stringify(v));
      if (phone) {
        const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        ok(w[0] <= w[1], `${name} (phone): nothing wider than the screen`, `${w[0]} > ${w[1]}`);
        if (name === 'monitoring') await page.waitForTimeout(2500); // two samples on the charts
        await shot(page, `phone-${name.replace(/ /g, '-')}`);
      }
    }
  }
  // the opened wallet on the phone, and the pages from the keyboard
  await signIn(page, node, 'alice');
  const v = await axe(page);
  ok(v.length === 0, 'open wallet (phone): no serious or critical axe violations', JSON.stringify(v));
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  ok(w[0] <= w[1], 'open wallet (phone): nothing wider than the screen', `${w[0]} > ${w[1]}`);
  await shot(page, 'phone-wallet');
  await page.goto(node.url + '/wallet');
  await page.getByRole('button', { name: 'Open wallet' }).waitFor();
  const focused = [];
  for (let i = 0; i < 3; i++) { // skip link, Wallet, Explorer
    await page.keyboard.press('Tab');
    focused.push(await page.evaluate(() => document.activeElement?.textContent));
  }
  ok(focused.join('|') === 'Skip to content|Wallet|Explorer', 'Tab goes through the skip link and the pages in order', focused.join('|'));
  await page.keyboard.press('Enter');
  await page.getByTestId('block-settlement').first().waitFor();
  ok(new URL(page.url()).pathname === '/explorer', 'the explorer opens from the keyboard (Tab, Enter)');
  // every page's link from the keyboard; the patient portal's form reached by Tab
  await page.goto(node.url + '/wallet');
  await page.getByRole('button', { name: 'Open wallet' }).waitFor();
  const seq = [];
  for (let i = 0; i < 9; i++) {
    await page.keyboard.press('Tab');
    seq.push(await page.evaluate(() => document.activeElement?.textContent));
  }
  ok(seq.join('|') === 'Skip to content|Wallet|Explorer|Directory|Exchange|Patient portal|Designer|Store|Monitoring', 'Tab reaches every page\'s link in order', seq.join('|'));
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Open key file' }).waitFor();
  ok(new URL(page.url()).pathname === '/patient', 'the patient portal opens from the keyboard');
  let tabs = 0;
  while (tabs < 6 && await page.evaluate(() => document.activeElement?.type) !== 'file') { await page.keyboard.press('Tab'); tabs++; }
  ok(tabs === 4, 'Tab reaches the key file input right after the remaining page links', `${tabs} tabs`);
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
