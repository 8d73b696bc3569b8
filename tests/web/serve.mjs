#!/usr/bin/env node
// How the node serves the app: index.html at / and at the app's own routes, hashed assets
// cached for a year, gzip only to clients that take it, ETag revalidation, security headers,
// GET/HEAD only, a missing asset a JSON 404, /v1/ still the API; and the same app over the
// API's mutual TLS, refused to a client without a member certificate.
import { gunzipSync } from 'node:zlib';
import { ok, run, startNode, request } from './lib.mjs';

await run(async (cleanup) => {
  const node = await startNode();
  cleanup.push(() => node.stop());
  const u = node.url;
  const root = await request(u + '/');
  const html = root.body.toString();
  ok(root.status === 200 && /text\/html/.test(root.headers['content-type']) && /<div id="root">/.test(html), 'GET / answers the app\'s index.html');
  ok(root.headers['cache-control'] === 'no-cache' && /^"[0-9a-f]+"$/.test(root.headers.etag), 'index.html is revalidated (no-cache, ETag)');
  const csp = root.headers['content-security-policy'] || '';
  ok(/default-src 'self'/.test(csp) && !/unsafe-inline|'unsafe-eval'|\*|https?:/.test(csp) && root.headers['x-content-type-options'] === 'nosniff',
    'security headers (CSP: this node only, no inline or eval\'d code; nosniff)', csp);
  const again = await request(u + '/', { headers: { 'If-None-Match': root.headers.etag } });
  ok(again.status === 304 && again.body.length === 0, 'If-None-Match with the ETag: 304 without a body');
  const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)[1];
  const plain = await request(u + js);
  const gz = await request(u + js, { headers: { 'Accept-Encoding': 'gzip, deflate' } });
  ok(plain.status === 200 && !plain.headers['content-encoding'], 'an asset without Accept-Encoding is sent plain');
  ok(gz.headers['content-encoding'] === 'gzip' && gz.body.length < plain.body.length / 2 && gunzipSync(gz.body).equals(plain.body),
    'with Accept-Encoding: gzip the same bytes come gzipped', `${gz.body.length} of ${plain.body.length}`);
  const q0 = await request(u + js, { headers: { 'Accept-Encoding': 'gzip;q=0' } });
  ok(!q0.headers['content-encoding'], 'gzip;q=0 is honoured');
  ok(plain.headers['cache-control'] === 'public, max-age=31536000, immutable' && /javascript/.test(plain.headers['content-type']), 'hashed assets are cached for a year as immutable, with their type');
  const route = await request(u + '/explorer/tx/' + 'ab'.repeat(32));
  ok(route.status === 200 && route.body.toString() === html, 'an app route (/explorer/tx/…) answers index.html');
  const miss = await request(u + '/assets/nope-1234.js');
  ok(miss.status === 404 && JSON.parse(miss.body).error.code === 'LB_ENOTFOUND', 'a missing asset is a JSON 404, not the app');
  const post = await request(u + '/', { method: 'POST' });
  ok(post.status === 405 && post.headers.allow === 'GET, HEAD', 'POST / is 405 with Allow: GET, HEAD');
  const head = await request(u + js, { method: 'HEAD' });
  ok(head.status === 200 && head.body.length === 0 && Number(head.headers['content-length']) === plain.body.length, 'HEAD gives the headers only');
  const api404 = await request(u + '/v1/nothing');
  ok(api404.status === 404 && JSON.parse(api404.body).error.message.includes('no such API path'), '/v1/ paths stay the API (unknown: its JSON 404)');
  const st = await request(u + '/v1/status');
  ok(st.status === 200 && JSON.parse(st.body).network_id, '/v1/status still answers JSON');
  const blocks = await request(u + '/v1/chains/settlement/blocks?limit=101');
  ok(blocks.status === 400, 'blocks page: limit over 100 is refused');
  const acc = await request(u + '/v1/accounts/lb1nope/txs');
  ok(acc.status === 400, 'account txs: a malformed address is refused');

  const tnode = await startNode({ tls: true });
  cleanup.push(() => tnode.stop());
  const t = await request(tnode.url + '/', { tls: tnode.tls });
  ok(t.status === 200 && t.body.toString() === html, 'over the API\'s mutual TLS a member gets the same app');
  let refused;
  try {
    const r = await request(tnode.url + '/', { tls: { ca: tnode.tls.ca } });
    refused = r.status === 403 ? 'HTTP 403' : null;
  } catch (e) { refused = e.code || e.message; }
  ok(!!refused, 'a client without a member certificate does not get the app', refused);
});
