/**
 * The built progress view (dist/webview/progress.js) in chromium, fed by a real SessionModel: the
 * Jobs section lists the agent's background jobs with their state and last lines, keeps them
 * current, and its Open log button asks the extension for that job's log.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openProgressPage, type ProgressPage } from '../../bench/webview-page';
import type { AgentEvent, AgentEventBody } from '../../src/events/events';
import { SessionModel } from '../../src/ui/model/session-model';

const BUNDLE = join(__dirname, '..', '..', 'dist', 'webview', 'progress.js');
const CHROMIUM = process.env.KLONG_CHROMIUM ?? '/usr/bin/chromium';
const skip = !existsSync(BUNDLE)
  ? 'dist/webview/progress.js is missing: run `npm run build` first'
  : !existsSync(CHROMIUM)
    ? `no chromium at ${CHROMIUM} (set KLONG_CHROMIUM)`
    : false;
if (skip) console.log(`# ${skip}; skipped`);

let seq = 0;
const T0 = Date.now() - 5 * 60_000;
const ev = (b: AgentEventBody, ts = T0 + seq * 1000): AgentEvent => ({ ...b, seq: seq++, ts }) as AgentEvent;

describe('the Jobs section of the progress view', { skip }, () => {
  let p: ProgressPage | undefined;
  after(async () => {
    await p?.close();
  });

  test('lists jobs with state and last lines, follows their ends, and Open log asks for the log', async () => {
    const model = new SessionModel();
    model.applyAll([
      ev({
        type: 'session_started',
        sessionId: 's',
        paperTitle: 'P',
        paperPath: '/p.pdf',
        workspace: '/w',
        model: 'm',
        budgetMs: 3600_000,
      }),
      ev({ type: 'status', status: 'running' }),
    ]);
    p = await openProgressPage(model);
    const { page } = p;
    // No job yet: no Jobs section.
    await page.waitForSelector('#group-plan:not([hidden])');
    assert.equal(await page.isHidden('#group-jobs'), true);

    model.applyAll([
      ev({
        type: 'job_started',
        step: 3,
        jobId: 'j1',
        name: 'train',
        command: 'python train.py --epochs 50',
      }),
      ev({ type: 'job_started', step: 4, jobId: 'j2', name: 'eval', command: 'python eval.py' }),
      ev({
        type: 'job_ended',
        jobId: 'j2',
        name: 'eval',
        state: 'exited',
        exitCode: 2,
        durationMs: 30_000,
        tail: 'Traceback (most recent call last)\nFileNotFoundError: data/test.csv',
      }),
    ]);
    model.setJobTail('j1', 'epoch 11 loss 0.41\nepoch 12 loss 0.39\n', 2048);
    await p.push();
    await page.waitForSelector('#group-jobs:not([hidden]) li[data-job="j1"]');
    const rows = await page.$$eval('#group-jobs li', (lis) =>
      lis.map((li) => ({
        id: li.getAttribute('data-job'),
        state: li.querySelector('.job-state')?.textContent,
        tail: li.querySelector('.job-tail')?.textContent,
      })),
    );
    assert.deepEqual(rows, [
      { id: 'j1', state: 'running', tail: 'epoch 11 loss 0.41\nepoch 12 loss 0.39' },
      {
        id: 'j2',
        state: 'exit 2',
        tail: 'Traceback (most recent call last)\nFileNotFoundError: data/test.csv',
      },
    ]);
    assert.equal(await page.textContent('#group-jobs .count'), '1 running');

    // The job ends: its row says so.
    model.apply(ev({ type: 'job_ended', jobId: 'j1', name: 'train', state: 'stopped', exitCode: 143 }));
    await p.push();
    await page.waitForSelector('#group-jobs li[data-job="j1"][data-state="stopped"]');
    assert.equal(await page.textContent('#group-jobs .count'), '0 running');

    await page.click('#group-jobs li[data-job="j2"] button[data-action="open-log"]');
    const deadline = Date.now() + 5000;
    while (!p.received.some((m) => m.type === 'job') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      p.received.filter((m) => m.type === 'job'),
      [{ type: 'job', action: 'openLog', id: 'j2' }],
    );
  });
});
