#!/usr/bin/env node
// Knowledge store in a real browser against a real node: listings published and listed with
// the CLI, browsed by page and sorted by rating, price and calls (the order the node's API
// gives), searched; a listing's details, ratings, outcome placeholder and family tree drawn;
// a paid call, a rating and the call's outcome signed in the page (decoded first) and found on
// the node; a call paid on the settlement chain (market.pay, then store.call citing it); the
// page's store payloads equal the C encoder's bytes (the CLI's txs of the same inputs).
import { join } from 'node:path';
import { ok, run, nodeAndBrowser, shot, axe, ROOT } from './lib.mjs';
import { ready } from '../../web/src/lib/crypto.js';
import { fromHex, toHex, Reader } from '../../web/src/lib/codec.js';
import { readFileSync } from 'node:fs';
import { parseKeyFile, openKeyFile } from '../../web/src/lib/keystore.js';
import { decodeTx, signTx, storeCallPayload, storeRatePayload, storeBuyPayload, storeOutcomePayload, marketPayPayload, storeListPayload, TX_TYPES } from '../../web/src/lib/tx.js';
import { addressDecode } from '../../web/src/lib/address.js';

const EX = join(ROOT, 'examples', 'contracts');
await run(async (cleanup) => {
  await ready();
  const { node, b, page } = await nodeAndBrowser(cleanup, { market: true }); // market.pay needs the market
  const get = async (p) => { const r = await fetch(node.url + p); return [r.status, await r.json()]; };
  const publish = (file, key) => JSON.parse(node.cli('contract', 'publish', join(EX, file), '--key', key, '--json')).contract;
  const hyp = publish('hypertension.pf', 'clinic');
  const chest = publish('chest_pain.pf', 'alice');
  node.cli('store', 'add', hyp, '--title', 'Hypertension diagnosis and follow-up', '--specialty', 'cardiology',
    '--price-call', '1', '--price-licence', '20', '--codes', 'icd10|I10', '--description', 'Blood pressure follow-up', '--from', 'clinic');
  const cliList = JSON.parse(node.cli('store', 'add', chest, '--title', 'Chest pain assessment', '--specialty', 'cardiology', '--price-call', '3',
    '--codes', 'icd10|R07.4', '--description', 'Acute chest pain, ECG and troponin', '--parent', hyp, '--relation', 'extend', '--from', 'alice', '--json'));
  node.cli('store', 'deposit', '40', '--from', 'bob');
  node.cli('store', 'deposit', '40', '--from', 'alice');
  // a call and a rating by the CLI: the C encoder's bytes
  const cliCall = JSON.parse(node.cli('store', 'call', hyp, '--from', 'alice', '--json'));
  const cliRate = JSON.parse(node.cli('store', 'rate', hyp, '4', 'clear thresholds', '--from', 'alice', '--json'));
  const [, ls] = await get('/v1/store/listings?sort=new&limit=10');
  const hypL = ls.listings.find((l) => l.title.startsWith('Hypertension')), chestL = ls.listings.find((l) => l.title.startsWith('Chest'));
  ok(ls.total === 2 && hypL && chestL, 'two listings on the node', JSON.stringify(ls).slice(0, 300));

  // byte equality with the C encoder: the CLI's signed store.call / store.rate, rebuilt and
  // signed by the page's encoder with the same key, nonce and network, are the same bytes
  const [, st] = await get('/v1/status');
  const alice = openKeyFile(parseKeyFile(readFileSync(node.keyFile('alice'), 'utf8')), 'demo');
  const rawOf = async (id) => { const [, p] = await get(`/v1/txs/${id}/proof`); return p.tx; };
  const same = async (cliId, type, payload) => {
    const want = await rawOf(cliId);
    const d = decodeTx(fromHex(want));
    const { raw } = signTx({ chain: 2, type, sender: alice.publicKey, nonce: d.nonce, fee: d.fee, expires: d.expires, payload }, fromHex(st.network_id), alice.secretKey);
    return [toHex(raw) === want, d, want];
  };
  const [callSame, callTx, callHex] = await same(cliCall.id, TX_TYPES.storeCall, storeCallPayload(fromHex(hypL.id), 1000000n));
  ok(callSame, 'the page\'s signed store.call equals the CLI\'s bytes', callHex);
  ok(callTx.typeName === 'store.call' && callTx.fields.listing === hypL.id && callTx.fields.paid_from === 'store wallet', 'the page decodes the CLI\'s store.call');
  const [rateSame, rateTx, rateHex] = await same(cliRate.id, TX_TYPES.storeRate, storeRatePayload(fromHex(hypL.id), 4, 'clear thresholds'));
  ok(rateSame && rateTx.fields.stars === 4 && rateTx.fields.text === 'clear thresholds', 'the page\'s signed store.rate equals the CLI\'s bytes', rateHex);
  const listTx = decodeTx(fromHex(await rawOf(cliList.id)));
  ok(toHex(listTx.payload) === toHex(storeListPayload(fromHex(chest), { title: 'Chest pain assessment', specialty: 'cardiology',
    description: 'Acute chest pain, ECG and troponin', price_call: 3000000n, price_licence: 0n, codes: ['icd10|R07.4'], parent: fromHex(hyp), relation: 'extend' })) &&
    listTx.fields.relation === 'extend' && listTx.fields.parent === hyp, 'the page\'s store.list equals the CLI\'s bytes (with a parent), and is decoded');
  // an outcome and a call paid on the settlement chain by the CLI: the same bytes from the page's encoders
  const cliOut = JSON.parse(node.cli('store', 'outcome', cliCall.id, 'resolved', '--from', 'alice', '--json'));
  const [outSame, cliOutTx] = await same(cliOut.id, TX_TYPES.storeOutcome, storeOutcomePayload(fromHex(hypL.id), fromHex(cliCall.id), 'resolved'));
  ok(outSame && cliOutTx.fields.outcome === 'resolved' && cliOutTx.fields.call === cliCall.id, 'the page\'s store.outcome equals the CLI\'s bytes, and is decoded');
  const cliSettled = JSON.parse(node.cli('store', 'call', hyp, '--from', 'alice', '--settle', '--json'));
  const [, settledView] = await get(`/v1/txs/${cliSettled.id}`);
  const settledTx = decodeTx(fromHex(await rawOf(cliSettled.id)));
  const rd = new Reader(settledTx.payload, 'store.call'); // version, listing, max price, session, then the cited tx
  rd.u8('version'); rd.fixed('listing', 32); rd.uvarBig('max price'); rd.fixed('session', 32);
  const payTx = decodeTx(rd.bytes('pay tx', 60000));
  ok(settledView.type === 'store.call' && /a cited payment/.test(settledTx.fields.paid_from), 'the CLI\'s settled call is decoded as paid by a cited payment');
  ok(payTx.typeName === 'market.pay' && toHex(payTx.payload) === toHex(marketPayPayload('contract', 1000000n, addressDecode(hypL.author), [])),
    'the cited market.pay inside it equals the page\'s encoder (1 ASC to the author)', JSON.stringify(payTx.fields, (k, v) => (typeof v === 'bigint' ? String(v) : v)));

  // browse: sort orders are the node's
  await page.goto(node.url + '/store');
  await page.getByTestId('listing-row').first().waitFor();
  const titles = async () => (await page.getByTestId('listing-row').locator('td:first-child a').allTextContents());
  ok((await titles()).length === 2, 'the store page lists both listings');
  await page.getByLabel('Sort by').selectOption('price');
  await page.waitForFunction(() => document.querySelector('[data-testid=listing-row] a')?.textContent.startsWith('Hypertension'));
  const [, byPrice] = await get('/v1/store/listings?sort=price');
  ok(JSON.stringify(await titles()) === JSON.stringify(byPrice.listings.map((l) => l.title)), 'sorted by price as the node sorts');
  await page.getByLabel('Sort by').selectOption('calls');
  const [, byCalls] = await get('/v1/store/listings?sort=calls');
  await page.waitForFunction((t) => document.querySelector('[data-testid=listing-row] a')?.textContent === t, byCalls.listings[0].title);
  ok(JSON.stringify(await titles()) === JSON.stringify(byCalls.listings.map((l) => l.title)), 'sorted by calls as the node sorts');
  ok(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'one page of listings: no next page');
  await page.getByLabel('Search').fill('chest pian');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=listing-row] a')?.textContent.startsWith('Chest'));
  ok(true, 'a search with a typo finds the chest pain listing first');

  // details: rating, family tree
  await page.getByRole('link', { name: 'Chest pain assessment' }).click();
  await page.getByTestId('family-tree').waitFor();
  ok(await page.getByTestId(`family-${hypL.id.slice(0, 16)}`).count() === 1 &&
    await page.getByTestId(`family-${chestL.id.slice(0, 16)}`).getAttribute('data-current') === 'yes', 'the family tree draws the parent and this listing');
  ok(/3(\.0+)? ASC/.test(await page.getByTestId('price-call').textContent()), 'the call price is shown');

  // a paid call and a rating by bob, signed in the page
  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile('bob'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key' }).click();
  await page.getByRole('button', { name: 'Rate' }).waitFor({ timeout: 30000 });
  const [, w0] = await get(`/v1/store/wallets/${node.address('bob')}`);
  await page.getByRole('button', { name: 'Pay one call' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'store.call' && (await page.getByTestId('review-listing').textContent()) === chestL.id &&
    (await page.getByTestId('review-max_price').textContent()) === '3000000', 'the call is decoded before it is signed');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('tx-result').getByText('committed').waitFor({ timeout: 30000 });
  const [, w1] = await get(`/v1/store/wallets/${node.address('bob')}`);
  ok(BigInt(w0.wallet) - BigInt(w1.wallet) === 3000000n, 'the node took the price from bob\'s store wallet', `${w0.wallet} -> ${w1.wallet}`);
  await page.getByLabel('Stars').selectOption('5');
  await page.getByLabel('Rating text').fill('fast, clear referral');
  await page.getByRole('button', { name: 'Rate' }).click();
  ok(await page.getByTestId('review-type').textContent() === 'store.rate' && await page.getByTestId('review-stars').textContent() === '5', 'the rating is decoded before it is signed');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('ratings').getByText('fast, clear referral').waitFor({ timeout: 30000 });
  const [, d] = await get(`/v1/store/listings/${chestL.id}`);
  const r = d.rating_list.find((x) => x.by === node.address('bob'));
  ok(r && r.stars === 5 && r.text === 'fast, clear referral' && d.calls === 1, 'the node holds bob\'s call and rating', JSON.stringify(d.rating_list));
  const [, rs] = await get(`/v1/store/listings/${chestL.id}/ratings`);
  ok(rs.total === 1, 'one rating listed for the listing');

  // the outcome of bob's call, recorded in the page (the call's id filled in by the page)
  const callId = await page.getByLabel('Call (tx id)').inputValue();
  const [, callTxView] = await get(`/v1/txs/${callId}`);
  ok(callTxView.type === 'store.call' && callTxView.sender === node.address('bob'), 'the outcome form names bob\'s paid call', JSON.stringify(callTxView).slice(0, 200));
  await page.getByLabel('Outcome').selectOption('resolved');
  await page.getByRole('button', { name: 'Record the outcome' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'store.outcome' && await page.getByTestId('review-call').textContent() === callId &&
    await page.getByTestId('review-outcome').textContent() === 'resolved', 'the outcome is decoded before it is signed (store.outcome, this call, resolved)');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('tx-result').getByText('committed').waitFor({ timeout: 30000 });
  const outId = (await page.getByTestId('tx-result').getByRole('link').first().getAttribute('href')).split('/').pop();
  const [, outTx] = await get(`/v1/txs/${outId}`);
  ok(outTx.status === 'committed' && outTx.type === 'store.outcome', 'the node committed the outcome', JSON.stringify(outTx).slice(0, 300));

  // a call paid on the settlement chain: market.pay signed first, then the call citing it
  const bobAsc0 = JSON.parse(node.cli('query', 'account', 'bob', '--json')).balances.asc;
  const [, w2] = await get(`/v1/store/wallets/${node.address('bob')}`);
  await page.getByLabel('Pay on the settlement chain (a cited payment)').check();
  await page.getByRole('button', { name: 'Pay one call' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'market.pay' && await page.getByTestId('review-amount').textContent() === '3000000' &&
    (await page.getByTestId('review-authors').textContent()).includes(node.address('alice')), 'the settlement payment is decoded first (market.pay, 3 ASC, to the author)');
  await shot(page, 'store-settle');
  const vSettle = await axe(page);
  ok(vSettle.length === 0, 'the listing with its pay, outcome and rating forms: no serious or critical axe violation', JSON.stringify(vSettle));
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('review-type').getByText('store.call').waitFor({ timeout: 60000 });
  ok(/a cited payment/.test(await page.getByTestId('review-paid_from').textContent()), 'then the call, citing the committed payment with its proof, is decoded');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('usage').getByText('2 calls').waitFor({ timeout: 60000 });
  const [, w3] = await get(`/v1/store/wallets/${node.address('bob')}`);
  const bobAsc1 = JSON.parse(node.cli('query', 'account', 'bob', '--json')).balances.asc;
  ok(w3.wallet === w2.wallet && bobAsc0 - bobAsc1 >= 3e6, 'the node counts the second call, paid in ASC on the settlement chain, not from the store wallet',
    `${w2.wallet} -> ${w3.wallet}, ASC ${bobAsc0} -> ${bobAsc1}`);
  ok(toHex(storeBuyPayload(fromHex(hypL.id), 20000000n)) === '01' + hypL.id + '80dac409' + '0000', 'store.buy layout: version, listing, max price, no cited payment');
  await shot(page, 'store-listing');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
