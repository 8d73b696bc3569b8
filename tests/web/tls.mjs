#!/usr/bin/env node
// The app over the API's mutual TLS in a real browser: a node on HTTPS (`--api-tls`, its own
// consortium CA); Chromium presents a member's client certificate through Playwright's
// `clientCertificates` (headless Chromium cannot pick one from its own store without a system
// policy). Playwright ends the browser's TLS in its proxy and opens its own TLS 1.3 connection
// to the node with the certificate; that connection checks the node's certificate against the
// consortium CA (NODE_EXTRA_CA_CERTS, so the test runs itself again once the CA exists) and the
// node's name (IP 127.0.0.1). In the page: alice's key file opened, a transfer reviewed decoded,
// signed in the page and committed, its proof checked; an exchange run asked from the page
// (the node's own run reaches it over the same TLS) and its result opened in the browser. A
// browser without a member certificate gets nothing from the node.
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ok, run, startNode, launch, signIn, shot, chromium, CHROMIUM, BIN } from './lib.mjs';
import { exchangeSetup } from './exchange-setup.mjs';

if (!process.env.LEBEN_TLS_HOME) {
  // first pass: the node and its CA, then this file again with the CA trusted
  const node = await startNode({ tls: true });
  let status = 1;
  try {
    status = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...process.env, LEBEN_TLS_HOME: node.home, LEBEN_TLS_URL: node.url,
        NODE_EXTRA_CA_CERTS: join(node.home, 'tls', 'ca.pem') },
    }).status;
  } finally {
    await node.stop();
  }
  process.exit(status ?? 1);
}

const home = process.env.LEBEN_TLS_HOME, url = process.env.LEBEN_TLS_URL;
const node = {
  home, url, keyFile: (name) => join(home, 'keys', `${name}.key`),
  cli: (...args) => execFileSync(BIN, args, { env: { ...process.env, LEBEN_PASSPHRASE: 'demo', LEBEN_HOME: home, LEBEN_NODE: url },
    encoding: 'utf8' }).trim(),
};

await run(async (cleanup) => {
  ok(url.startsWith('https://'), 'the node serves the API and the app over HTTPS (mutual TLS)');
  // a browser without a member certificate: the node refuses the TLS handshake
  const bare = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  cleanup.push(() => bare.close());
  const bp = await (await bare.newContext({ ignoreHTTPSErrors: true })).newPage();
  let refused = '';
  try {
    const r = await bp.goto(url + '/wallet', { timeout: 15000 });
    refused = r.status() === 403 && !/<div id="root">/.test(await r.text()) ? 'HTTP 403' : '';
  } catch (e) { refused = e.message.split('\n')[0]; }
  ok(refused !== '', 'a browser without a client certificate does not get the app', refused);

  const b = await launch({ clientCertificates: [{ origin: url, certPath: join(home, 'tls', 'node.pem'),
    keyPath: join(home, 'tls', 'node.key') }] });
  cleanup.push(() => b.close());
  const { page } = b;
  const bob = JSON.parse(node.cli('keys', 'show', 'bob', '--json')).address;
  const before = JSON.parse(node.cli('query', 'account', 'alice', '--json')).balances.asc;
  await signIn(page, node, 'alice');
  ok(true, 'with a member certificate the app loads over TLS and opens alice\'s key file');
  await page.getByLabel('To (address)').fill(bob);
  await page.getByLabel('Amount').fill('3');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-to').textContent() === bob, 'the transfer is shown decoded before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  const result = page.getByTestId('tx-result');
  await result.getByText('committed').waitFor({ timeout: 60000 });
  await result.getByTestId('proof-verdict').first().waitFor({ timeout: 30000 });
  ok(/proof valid/.test(await result.getByTestId('proof-verdict').first().textContent()), 'signed in the page, committed over TLS, its proof valid');
  const after = JSON.parse(node.cli('query', 'account', 'alice', '--json')).balances.asc;
  ok(before - after === 3e6, 'the node took 3 ASC from alice', `${before} -> ${after}`);
  await shot(page, 'wallet-tls');

  // an exchange run over TLS: the node's run (its child `leben exchange run` reaches the node
  // over the same mutual TLS) started from the page, the result opened in the browser
  const fx = exchangeSetup(node);
  node.cli('exchange', 'approve', '--from', 'clinic', '--request', fx.req, '--reason', 'aggregate statistics only');
  node.cli('exchange', 'escrow', '--from', 'alice', '--request', fx.req, '--executor', 'node', '--compute-fee', '2');
  await page.goto(`${url}/exchange/request/${fx.req}`);
  await page.getByRole('button', { name: 'Run it on this node' }).click();
  await page.getByTestId('escrow-status').getByText('released').waitFor({ timeout: 90000 });
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile('alice'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByRole('button', { name: 'Open the result' }).click();
  await page.getByTestId('result-text').waitFor({ timeout: 30000 });
  ok(JSON.parse(await page.getByTestId('result-text').textContent()).n !== undefined, 'over TLS the node runs the request asked from the page, and alice opens its result in the browser');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
