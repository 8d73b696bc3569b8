// Shared by the browser tests: a real node started from build/leben in a fresh demo home, and
// Debian's Chromium driven by playwright-core (no browser download). TAP output.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import http from 'node:http';
import https from 'node:https';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const { chromium } = await import(join(ROOT, 'web', 'node_modules', 'playwright-core', 'index.mjs'));
export const BIN = process.env.LEBEN_BIN || join(ROOT, 'build', 'leben');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.WEB_SHOTS || ''; // directory for screenshots (docs/web/)

let n = 0, failed = 0;
export function ok(cond, name, diag) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && diag) console.log('# ' + String(diag).split('\n').join('\n# '));
  return cond;
}
export function done() { console.log(`1..${n}`); return failed ? 1 : 0; }

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

// tls: the API (and so the app) on HTTPS with mutual TLS, a consortium CA of its own.
// genesis(path): edits genesis.json before the node's first start.
export async function startNode({ tls = false, market = false, genesis = null } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} not built (make)`);
  const home = mkdtempSync(join(tmpdir(), 'leben-web-'));
  const env = { ...process.env, LEBEN_PASSPHRASE: 'demo' };
  const port = await freePort();
  execFileSync(BIN, ['init', '--home', home, '--demo', ...(market ? ['--market'] : []), '--api-port', String(port)], { env, stdio: 'ignore' });
  if (genesis) genesis(join(home, 'genesis.json'));
  if (tls) {
    execFileSync(BIN, ['ca', 'init', '--dir', join(home, 'ca'), '--name', 'web-consortium'], { env, stdio: 'ignore' });
    execFileSync(BIN, ['ca', 'issue', '--dir', join(home, 'ca'), '--name', 'web-node', '--home', home], { env, stdio: 'ignore' });
  }
  const proc = spawn(BIN, ['node', '--home', home, '--api-port', String(port), ...(tls ? ['--api-tls'] : [])],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const tlsFiles = tls ? { cert: readFileSync(join(home, 'tls', 'node.pem')), key: readFileSync(join(home, 'tls', 'node.key')),
    ca: readFileSync(join(home, 'tls', 'ca.pem')) } : null;
  for (let i = 0; ; i++) {
    try { if (tls ? (await request(url + '/v1/status', { tls: tlsFiles })).status === 200 : (await fetch(url + '/v1/status')).ok) break; } catch { /* not yet */ }
    if (i > 150 || proc.exitCode !== null) throw new Error('the node did not start: ' + log);
    await new Promise((r) => setTimeout(r, 100));
  }
  const cli = (...args) => execFileSync(BIN, args, {
    env: { ...env, LEBEN_HOME: home, LEBEN_NODE: url }, encoding: 'utf8' }).trim();
  return {
    home, url, cli, tls: tlsFiles, keyFile: (name) => join(home, 'keys', `${name}.key`),
    address: (name) => JSON.parse(readFileSync(join(home, 'keys', `${name}.key`), 'utf8')).address,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      rmSync(home, { recursive: true, force: true });
    },
  };
}

// One HTTP(S) request without the fetch API's decompression: {status, headers, body (Buffer)}.
// tls: {cert, key, ca} of a client (null: present no certificate).
export function request(url, { method = 'GET', headers = {}, tls = null } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const opt = { method, headers, hostname: u.hostname, port: u.port, path: u.pathname + u.search };
  if (u.protocol === 'https:') Object.assign(opt, { minVersion: 'TLSv1.3', ca: tls?.ca, cert: tls?.cert, key: tls?.key,
    checkServerIdentity: () => undefined });
  return new Promise((res, rej) => {
    const r = mod.request(opt, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => res({ status: resp.statusCode, headers: resp.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', rej);
    r.end();
  });
}

// extra: more context options (clientCertificates for a node on mutual TLS).
export async function launch(extra = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'leben-chromium-'));
  const ctx = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 }, ...extra,
  });
  const errors = [];
  ctx.on('page', (p) => watch(p, errors));
  ctx.pages().forEach((p) => watch(p, errors));
  return {
    ctx, errors, page: ctx.pages()[0] || await ctx.newPage(),
    async close() { await ctx.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

function watch(p, errors) {
  p.on('pageerror', (e) => errors.push('page error: ' + e.message));
  // 404s are answers the pages expect (a proof not anchored yet); anything else is an error
  p.on('console', (m) => {
    if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push('console: ' + m.text());
  });
}

export async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// Open a key file in the wallet page and wait for the balances.
export async function signIn(page, node, name) {
  await page.goto(node.url + '/wallet');
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile(name));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open wallet' }).click();
  await page.getByTestId('balance-asc').waitFor({ timeout: 30000 });
}

// A node and a browser for one test, both stopped by cleanup: {node, b, page}.
export async function nodeAndBrowser(cleanup, opts) {
  const node = await startNode(opts);
  cleanup.push(() => node.stop());
  const b = await launch();
  cleanup.push(() => b.close());
  return { node, b, page: b.page };
}

// Run main(), print the plan, exit with its status; always stop what was started.
export async function run(main) {
  const cleanup = [];
  let code = 1;
  try {
    await main(cleanup);
    code = done();
  } catch (e) {
    ok(false, 'test ran to its end', e.stack || e);
    code = done();
  } finally {
    for (const f of cleanup.reverse()) { try { await f(); } catch { /* already gone */ } }
  }
  process.exit(code);
}

// axe-core's serious and critical violations on the page as it is now: [{id, impact, n, t}].
const AXE = readFileSync(join(ROOT, 'web', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
export async function axe(page) {
  await page.evaluate(AXE); // through the debugger: the page's CSP forbids inline scripts
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length, t: v.nodes[0]?.target }));
  });
  return r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
