#!/usr/bin/env node
// Knowledge designer in a real browser: open the faulty deadlock example, see its tasks and
// scheduling arrow drawn and both text views filled; the verifier's deadlock and unreachable
// task drawn on the diagram; drag a task with the mouse; fix the contract in the graph (add an
// enquiry for the lab result, add an arrow to the review) and the check passes; an edit in the
// .pf text reaches the JSON view and one in the JSON view reaches the .pf text; publish it
// signed in the page and find it on the node.
import { join } from 'node:path';
import { ok, run, nodeAndBrowser, shot, ROOT } from './lib.mjs';

await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup);
  const get = async (p) => { const r = await fetch(node.url + p); return [r.status, await r.json()]; };

  await page.goto(node.url + '/designer');
  await page.getByTestId('pf-text').waitFor();
  const t0 = Date.now();
  await page.getByLabel('Open a contract').setInputFiles(join(ROOT, 'examples', 'contracts', 'faulty', 'deadlock.pf'));
  await page.getByTestId('task-review').waitFor();
  const rendered = Date.now() - t0;
  ok(await page.getByTestId('task-ask').getAttribute('data-kind') === 'Enquiry' && await page.getByTestId('task-review').getAttribute('data-kind') === 'Action',
    'the example\'s enquiry and action are drawn');
  ok(await page.getByTestId('arrow-ask-review').count() === 1, 'the scheduling arrow ask → review is drawn');
  ok(/"class": "Enquiry"/.test(await page.getByTestId('json-text').inputValue()) && /action :: review/.test(await page.getByTestId('pf-text').inputValue()),
    'the .pf text and the PROformajs JSON views are filled');

  await page.getByRole('button', { name: 'Check' }).click();
  await page.getByTestId('finding').first().waitFor({ timeout: 30000 });
  const fs = await page.getByTestId('finding').allTextContents();
  ok(fs.some((f) => /^deadlock/.test(f)) && fs.some((f) => /^unreachable at review/.test(f)), 'the verifier\'s deadlock and unreachable task are listed', fs.join(' | '));
  ok(await page.getByTestId('task-review').getAttribute('data-finding') === 'unreachable', 'the unreachable task is marked on the diagram');
  ok(await page.getByTestId('task-ask').getAttribute('data-path') === '1', 'the deadlock\'s counterexample path (answer symptoms) is drawn on the enquiry that asks it');
  await shot(page, 'designer-finding');

  // real drag and drop with the mouse
  const box = await page.getByTestId('task-review').boundingBox();
  const before = await page.getByTestId('task-review').getAttribute('transform');
  await page.mouse.move(box.x + 20, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + 60, box.y + 120, { steps: 8 });
  await page.mouse.up();
  const after = await page.getByTestId('task-review').getAttribute('transform');
  const [, x0, y0] = /translate\((\d+),(\d+)\)/.exec(before).map(Number), [, x1, y1] = /translate\((\d+),(\d+)\)/.exec(after).map(Number);
  ok(x1 > x0 + 10 && y1 > y0 + 30, 'dragging the review task moves it', `${before} -> ${after}`);

  // HTML5 drag and drop from the palette onto the diagram adds a task where it is dropped
  await page.getByTestId('palette-Action').dragTo(page.getByTestId('graph'), { targetPosition: { x: 500, y: 300 } });
  await page.getByTestId('task-action_1').waitFor({ timeout: 10000 });
  ok(/action :: action_1/.test(await page.getByTestId('pf-text').inputValue()) &&
    /"name": "action_1"/.test(await page.getByTestId('json-text').inputValue()), 'an action dragged from the palette onto the diagram is added, in both texts');
  const dropped = /translate\((\d+),(\d+)\)/.exec(await page.getByTestId('task-action_1').getAttribute('transform')).map(Number);
  ok(dropped[1] > 100 && dropped[2] > 60, 'where it was dropped', dropped.join(','));
  // fix it in the graph: an enquiry asks for the lab result, the review comes after it
  await page.getByLabel('Kind').selectOption('Enquiry');
  await page.getByLabel('Task name').fill('get_lab');
  await page.getByLabel('After').selectOption('ask');
  await page.getByLabel('Asks for').selectOption('lab_result');
  await page.getByRole('button', { name: 'Add task' }).click();
  await page.getByTestId('task-get_lab').waitFor();
  await page.getByLabel('From', { exact: true }).selectOption('get_lab');
  await page.getByLabel('To', { exact: true }).selectOption('review');
  await page.getByRole('button', { name: 'Add arrow' }).click();
  await page.getByTestId('arrow-get_lab-review').waitFor();
  ok(/enquiry :: get_lab/.test(await page.getByTestId('pf-text').inputValue()) && /after ask, get_lab|after get_lab/.test(await page.getByTestId('pf-text').inputValue()),
    'the new task and arrow are in the .pf text', await page.getByTestId('pf-text').inputValue());
  ok(/"name": "get_lab"/.test(await page.getByTestId('json-text').inputValue()), 'and in the PROformajs JSON');
  ok(/translate\(/.test(await page.getByTestId('task-review').getAttribute('transform')) &&
    await page.getByTestId('task-review').getAttribute('transform') === after, 'the moved task keeps its place after the change');

  // text -> JSON and JSON -> text
  const pf = await page.getByTestId('pf-text').inputValue();
  await page.getByTestId('pf-text').fill(pf.replace('Review the lab result', 'Review the potassium'));
  await page.waitForFunction(() => document.querySelector('[data-testid=json-text]').value.includes('Review the potassium'), null, { timeout: 10000 });
  ok(true, 'an edit of the .pf text reaches the JSON view');
  const js = await page.getByTestId('json-text').inputValue();
  await page.getByTestId('json-text').fill(js.replace('"Symptoms present?"', '"Any symptoms?"'));
  await page.waitForFunction(() => document.querySelector('[data-testid=pf-text]').value.includes('caption "Any symptoms?"'), null, { timeout: 10000 });
  ok(true, 'an edit of the JSON view reaches the .pf text');

  await page.getByRole('button', { name: 'Check' }).click();
  await page.getByText('The verifier found nothing').waitFor({ timeout: 30000 });
  ok(await page.getByTestId('task-review').getAttribute('data-finding') === null, 'after the fix the verifier finds nothing and no task is marked');
  await shot(page, 'designer');

  await page.getByLabel('Key file', { exact: true }).setInputFiles(node.keyFile('clinic'));
  await page.getByLabel('Passphrase', { exact: true }).fill('demo');
  await page.getByRole('button', { name: 'Open key file' }).click();
  await page.getByRole('button', { name: 'Publish to the chain' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'contract.publish', 'the publication is shown decoded before signing');
  const hash = await page.getByTestId('review-source_hash').textContent();
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('published').waitFor({ timeout: 60000 });
  const [st, c] = await get(`/v1/contracts/${hash}`);
  ok(st === 200 && c.name === 'deadlock_demo' && /get_lab/.test(c.source) && c.author === node.address('clinic'),
    'the node lists the published contract with the fix, authored by the clinic', JSON.stringify([st, c.name]));
  // and find it in the store, then open it from there in the designer
  await page.getByRole('link', { name: 'Store' }).click();
  await page.getByLabel('Filter by name').fill('deadlock');
  await page.getByTestId('contract-row').first().waitFor();
  ok(await page.getByTestId('contract-row').count() === 1, 'the store lists the published contract');
  await page.getByRole('link', { name: 'deadlock_demo' }).click();
  await page.getByTestId('contract-source').waitFor();
  ok((await page.getByTestId('contract-source').textContent()) === c.source, 'its page shows the source the chain holds');
  // the author lists it in the store from its page (the clinic's key is still open)
  const lf = page.getByTestId('list-form');
  await lf.getByLabel('Title').fill('Lab result review');
  await lf.getByLabel('Specialty').fill('internal medicine');
  await lf.getByLabel('Price per call (ASC)').fill('2');
  await lf.getByLabel(/^Codes/).fill('icd10|I10');
  await shot(page, 'store');
  await lf.getByRole('button', { name: 'Review the listing' }).click();
  await page.getByTestId('review').waitFor();
  ok(await page.getByTestId('review-type').textContent() === 'store.list' && await page.getByTestId('review-title').textContent() === 'Lab result review' &&
    await page.getByTestId('review-price_call').textContent() === '2000000', 'the listing is shown decoded (store.list, title, 2 ASC a call) before signing');
  await page.getByRole('button', { name: 'Sign and send' }).click();
  await page.getByTestId('listed-link').waitFor({ timeout: 60000 });
  const [lst, listing] = await get(`/v1/store/listings/${hash}`);
  ok(lst === 200 && listing.title === 'Lab result review' && String(listing.price_call) === '2000000' && listing.author === node.address('clinic') &&
    JSON.stringify(listing.codes) === '["icd10|I10"]', 'the node lists it in the store with its title, price, code and author', JSON.stringify(listing).slice(0, 300));
  await page.getByRole('link', { name: 'Open in the designer' }).click();
  await page.getByTestId('task-get_lab').waitFor({ timeout: 20000 });
  ok(true, 'the store opens it in the designer');
  // delete an arrow and a task; candidates and arguments of a decision edited in the graph
  await page.getByLabel('Arrow to delete').selectOption('get_lab → review');
  await page.getByRole('button', { name: 'Delete arrow' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="arrow-get_lab-review"]'));
  ok(!/"get_lab"\s*\]/.test(await page.getByTestId('json-text').inputValue()), 'a deleted arrow leaves the diagram and the JSON');
  await page.getByLabel('Task to delete').selectOption('get_lab');
  await page.getByRole('button', { name: 'Delete task' }).click();
  await page.getByTestId('task-get_lab').waitFor({ state: 'detached' });
  ok(!/get_lab/.test(await page.getByTestId('pf-text').inputValue()), 'a deleted task leaves the diagram and the .pf text');
  await page.getByTestId('palette-Decision').click();
  await page.getByTestId('task-decision_1').waitFor();
  await page.getByLabel('New candidate').fill('watch');
  await page.getByRole('button', { name: 'Add candidate' }).click();
  await page.getByTestId('cand-watch').waitFor();
  await page.getByLabel('Argument for').selectOption('yes');
  await page.getByLabel('Support').selectOption('++');
  await page.getByLabel('Argument caption').fill('lab result high');
  await page.getByRole('button', { name: 'Add argument' }).click();
  await page.getByTestId('arg-yes').waitFor();
  const js2 = JSON.parse(await page.getByTestId('json-text').inputValue());
  const dec = js2.tasks.find((t) => t.name === 'decision_1');
  ok(dec.candidates.map((c) => c.name).join() === 'yes,no,watch' && dec.candidates[0].arguments[0].support === '++' &&
    dec.candidates[0].arguments[0].caption === 'lab result high', 'a candidate and an argument added in the editor are in the JSON', JSON.stringify(dec));
  ok(/lab result high/.test(await page.getByTestId('pf-text').inputValue()), 'and in the .pf text (printed by the node)');
  await page.getByRole('button', { name: 'Delete candidate watch' }).click();
  await page.getByTestId('cand-watch').waitFor({ state: 'detached' });
  ok(true, 'a candidate is deleted');
  // the layout is kept in the browser: a reload draws the moved task where it was
  const moved = await page.getByTestId('task-review').getAttribute('transform');
  await page.reload();
  await page.getByTestId('task-review').waitFor({ timeout: 20000 });
  ok(await page.getByTestId('task-review').getAttribute('transform') === moved, 'the saved layout is restored after a reload', moved);
  console.log(`# designer: deadlock example drawn ${rendered} ms after the file was chosen`);
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
