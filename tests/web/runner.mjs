#!/usr/bin/env node
// The designer's step-through runner in a real browser: the hypertension contract run on the
// node (POST /v1/contracts/step, PROformajs rules); the enquiry is asked as a form, the answers
// reach the run's data, the decision's candidates follow them and one is confirmed; the page
// shows what the node answers for the same operations. The endpoint's refusals: a malformed
// operation (400 naming it), a refused one (named in "refused"), a body without a source. The
// run saved in the browser and downloaded as operations that `leben contract run --answers`
// replays; resumed after a reload to the saved state; a run file opened.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ok, run, nodeAndBrowser, shot, ROOT } from './lib.mjs';

const file = join(ROOT, 'examples', 'contracts', 'hypertension.pf');
await run(async (cleanup) => {
  const { node, b, page } = await nodeAndBrowser(cleanup);
  const step = async (body) => { const r = await fetch(node.url + '/v1/contracts/step', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }); return [r.status, await r.json()]; };
  const src = readFileSync(file, 'utf8');
  let [st, j] = await step({ source: src, ops: [{ op: 'bogus' }] });
  ok(st === 400 && /operation 1: .*got bogus/.test(j.error.message), 'a malformed operation is refused, named', JSON.stringify(j));
  [st, j] = await step({ source: src, ops: [{ op: 'complete', path: 'nope' }] });
  ok(st === 200 && /nope/.test(j.refused) && j.ops[0].error === true, 'an operation the rules refuse is named in "refused" and marked in ops', JSON.stringify(j.refused));
  [st, j] = await step({ ops: [] });
  ok(st === 400 && /"source"/.test(j.error.message), 'a body without a source is refused');

  await page.goto(node.url + '/designer');
  await page.getByTestId('pf-text').waitFor();
  await page.getByLabel('Open a contract').setInputFiles(file);
  await page.getByTestId('task-clinic_reading').waitFor();
  await page.getByRole('button', { name: 'Start a run' }).click();
  const form = page.getByTestId('ask-clinic_reading');
  await form.waitFor();
  await form.getByLabel(/Clinic systolic/).fill('182');
  await form.getByLabel(/Clinic diastolic/).fill('121');
  await form.getByRole('button', { name: 'Answer' }).click();
  await form.waitFor({ state: 'detached' }); // the enquiry completed: the node answered
  await page.getByTestId('decide-severity').waitFor();
  const ops = [{ op: 'set', path: 'hypertension:clinic_reading', data: { clinic_sbp: 182, clinic_dbp: 121 } }, { op: 'complete', path: 'hypertension:clinic_reading' }];
  const [, want] = await step({ source: await page.getByTestId('pf-text').inputValue(), ops });
  const shown = JSON.parse(await page.getByTestId('run-state').textContent());
  ok(shown.data.clinic_sbp === 182 && shown.data.clinic_dbp === 121 && JSON.stringify(shown) === JSON.stringify(want.state),
    'the answers are in the run\'s data, and the page shows the node\'s state for those operations', JSON.stringify(shown.data));
  const rec = want.pending.decisions[0].candidates.find((c) => c.name === 'same_day');
  ok(String(rec.support) === 'inf' && /same_day[^\n]*support inf/.test(await page.getByTestId('decide-severity').textContent().then((t) => t.replace(/Same-day specialist assessment/, 'same_day'))),
    'same-day assessment has the decisive support (inf) for 182/121 mmHg, shown in the page', JSON.stringify(want.pending.decisions[0].candidates.map((c) => [c.name, c.support])));
  await page.getByRole('button', { name: `Confirm ${rec.name}` }).click();
  await page.getByTestId('decide-severity').waitFor({ state: 'detached' });
  ok(JSON.parse(await page.getByTestId('run-state').textContent()).candidates[rec.path][2] === true, 'the confirmed candidate is confirmed in the run (the single-choice decision then completes)');
  await shot(page, 'designer-run');

  // the run saved: in this browser and as a file of operations the CLI replays
  await page.getByRole('button', { name: 'Save the run' }).click();
  ok(/Saved in this browser \(1 saved run/.test(await page.getByTestId('run-note').textContent()), 'the run is saved in the browser');
  await shot(page, 'designer-runs');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('run-download').click()]);
  const runFile = join(node.home, 'run.json');
  await dl.saveAs(runFile);
  const savedOps = JSON.parse(readFileSync(runFile, 'utf8'));
  ok(savedOps.length === 3 && savedOps[2].op === 'confirm' && savedOps[2].path === rec.path, 'its operations download as a JSON array (set, complete, confirm)', JSON.stringify(savedOps));
  // a run saved part way: the CLI replays its steps, then says the pathway is not finished
  let out = '';
  try { out = node.cli('contract', 'run', file, '--rules', 'proformajs', '--answers', runFile, '--json'); } catch (e) {
    out = /not finished after the 3 operations/.test(e.stderr) ? String(e.stdout) : '';
  }
  const cliRun = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const steps = cliRun.filter((e) => e.event === 'step'); // step 0: the start
  ok(steps.length === 4 && steps.every((e) => !e.error) && steps[3].data.clinic_sbp === 182 && steps[3].candidates?.[rec.path]?.[2] === true,
    '`leben contract run --rules proformajs --answers` replays the saved operations to the same confirmed candidate', JSON.stringify(steps.at(-1)).slice(0, 400));
  await page.reload();
  await page.getByLabel('Open a contract').setInputFiles(file);
  await page.getByTestId('saved-run').first().waitFor();
  ok(/3 steps/.test(await page.getByTestId('saved-run').first().textContent()), 'after a reload the saved run is listed with its steps');
  await page.getByRole('button', { name: 'Resume run 1' }).click();
  await page.getByTestId('run-note').waitFor();
  ok(/gives the state saved/.test(await page.getByTestId('run-note').textContent()) &&
    JSON.parse(await page.getByTestId('run-state').textContent()).candidates[rec.path][2] === true, 'resumed: the node replays it to the saved state');
  await page.getByRole('button', { name: 'Stop the run' }).click();
  await page.getByLabel('Open a run file').setInputFiles(runFile);
  await page.getByTestId('run-state').waitFor({ state: 'attached' });
  ok(JSON.parse(await page.getByTestId('run-state').textContent()).data.clinic_sbp === 182, 'a run file opened in the page runs on the node');
  ok(b.errors.length === 0, 'no page errors', b.errors.join('\n'));
});
