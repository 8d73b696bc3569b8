#!/usr/bin/env node
// Wallet workflow in a real browser: open alice's key file, see her balances, transfer 12.5 ASC
// to bob after checking the decoded tx, see it committed with a valid proof, then open bob's
// key file and see the credit arrive in his balance and history.
import { ok, run, startNode, launch, signIn, shot } from './lib.mjs';

await run(async (cleanup) => {
  const node = await startNode();
  cleanup.push(() => node.stop());
  const b = await launch();
  cleanup.push(() => b.close());
  const { page } = b;
  const bob = node.address('bob');
  const before = JSON.parse(node.cli('query', 'account', 'alice', '--json')).balances.asc;

  await signIn(page, node, 'alice');
  ok(await page.getByTestId('my-address').textContent() === node.address('alice'), 'wallet shows alice\'s address after opening her key file');
  const asc = await page.getByTestId('balance-asc').textContent();
  ok(asc.replace(/[^0-9.]/g, '') === String(before / 1e6), 'ASC balance matches the node', `${asc} vs ${before}`);

  // a wrong address is refused before anything is signed
  await page.getByLabel('To (address)').fill(bob.slice(0, -1) + (bob.endsWith('q') ? 'p' : 'q'));
  await page.getByLabel('Amount').fill('12.5');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  ok(await page.getByRole('alert').textContent().then((t) => /typo/.test(t)), 'a mistyped address is refused with its reason');

  await page.getByLabel('To (address)').fill(bob);
  await page.getByLabel('Memo').fill('lab fees');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-to').textContent() === bob, 'review shows the recipient decoded from the bytes to sign');
  ok(/12\.5 ASC/.test(await page.getByTestId('review-amount').textContent()), 'review shows the amount decoded from the bytes to sign');
  await shot(page, 'wallet-review');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  const result = page.getByTestId('tx-result');
  await result.getByText('committed').waitFor({ timeout: 60000 });
  ok(true, 'the transfer is committed in a block');
  await result.getByTestId('proof-verdict').first().waitFor({ timeout: 30000 });
  ok(/proof valid/.test(await result.getByTestId('proof-verdict').first().textContent()), 'its inclusion proof is valid (checked in the browser)');
  const after = JSON.parse(node.cli('query', 'account', 'alice', '--json')).balances.asc;
  ok(before - after === 12.5e6, 'the node took 12.5 ASC from alice', `${before} -> ${after}`);
  await page.getByTestId('history-row').first().waitFor();
  ok(/transfer/.test(await page.getByTestId('history-row').first().textContent()), 'alice\'s history lists the transfer');
  await shot(page, 'wallet');

  await page.getByRole('button', { name: 'Close wallet' }).click();
  await signIn(page, node, 'bob');
  const bobAsc = JSON.parse(node.cli('query', 'account', 'bob', '--json')).balances.asc;
  ok((await page.getByTestId('balance-asc').textContent()).replace(/[^0-9.]/g, '') === String(bobAsc / 1e6), 'bob\'s wallet shows his balance with the credit');
  const row = page.getByTestId('history-row').first();
  await row.waitFor();
  const t = await row.textContent();
  ok(/transfer/.test(t) && /in/.test(t) && /12\.5/.test(t), 'bob\'s history lists the incoming 12.5 ASC', t);

  // bob converts 5 CSC into ASC: the review names the convert and its amount
  const bobBefore = JSON.parse(node.cli('query', 'account', 'bob', '--json')).balances;
  await page.getByLabel('CSC to convert').fill('5');
  await page.getByRole('button', { name: 'Review conversion' }).click();
  await page.getByTestId('review').waitFor();
  const rev = await page.getByTestId('review').textContent();
  ok(/convert/.test(rev) && /5 CSC/.test(rev), 'the conversion is reviewed decoded (type convert, 5 CSC)', rev);
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('tx-result').getByText('committed').waitFor({ timeout: 60000 });
  const bobAfter = JSON.parse(node.cli('query', 'account', 'bob', '--json')).balances;
  ok(bobAfter.csc < bobBefore.csc - 5e6 + 1 && bobAfter.asc > bobBefore.asc, 'the node converted bob\'s CSC into ASC', JSON.stringify([bobBefore, bobAfter]));
  await page.getByTestId('balance-asc').getByText(String(bobAfter.asc / 1e6).replace(/\B(?=(\d{3})+(?!\d))/g, ',')).waitFor({ timeout: 10000 });
  ok(true, 'bob\'s wallet shows the new ASC balance');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
