import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProgressAction } from '../../../src/ui/progress-view';
import { EventFeed, klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';

const progress = view('progress');

describe('progress view', () => {
  before(function () {
    if (!hasDriver()) this.skip(); // needs the Playwright side (code-server run)
  });

  it('renders a live session fed as agent events and sends button presses back', async () => {
    const ui = await klong();
    ui.session.reset();
    await ui.progress.reveal();
    await until('progress view ready', () => ui.progress.isReady);
    const actions: ProgressAction[] = [];
    const sub = ui.progress.onDidRequestAction((a) => actions.push(a));
    const feed = new EventFeed(ui, Date.now() - 2 * 3600_000);
    ui.session.setNetwork('none');
    ui.session.setSpendCap(20);
    feed.push(
      {
        type: 'session_started',
        sessionId: 's1',
        paperTitle: 'Resampling for Reproducible Research',
        paperPath: '/w/paper.pdf',
        workspace: '/w',
        model: 'scripted-model',
        budgetMs: 12 * 3600_000,
      },
      { type: 'status', status: 'running' },
      { type: 'stage', stage: 'implement' },
      {
        type: 'plan',
        items: [
          { text: 'Read the method section', status: 'done' },
          { text: 'Implement the resampling estimator', status: 'doing' },
          { text: 'Write reproduce.sh', status: 'todo' },
        ],
      },
      { type: 'model_request', step: 1, window: 0, promptTokens: 12000, messages: 3 },
      {
        type: 'model_response',
        step: 1,
        message: {
          role: 'assistant',
          content: 'I will run the unit tests first.',
          toolCalls: [{ id: 'c1', name: 'bash', arguments: '{"command":"pytest -q tests/"}' }],
        },
        usage: { promptTokens: 12000, cachedTokens: 8000, completionTokens: 300 },
        costUsd: 0.031,
      },
      { type: 'tool_call', step: 1, callId: 'c1', name: 'bash', args: '{"command":"pytest -q tests/"}' },
      {
        type: 'tool_result',
        step: 1,
        callId: 'c1',
        name: 'bash',
        ok: false,
        output: '3 passed, 1 failed\nFAILED tests/test_resample.py::test_variance',
        durationMs: 4200,
      },
      {
        type: 'edit_proposed',
        step: 2,
        proposal: { path: 'src/resample.py', kind: 'modify', additions: 12, deletions: 3 },
      },
      {
        type: 'edit_proposed',
        step: 2,
        proposal: { path: 'reproduce.sh', kind: 'add', additions: 20, deletions: 0 },
      },
    );
    await progress.waitFor('#status', { text: 'running' });
    await progress.waitFor('li[data-path="src/resample.py"] button[data-action="accept"]');
    assert.match(await progress.text('#network'), /none/);
    assert.match(await progress.text('#plan-body'), /Implement the resampling estimator/);
    // The stage strip fits the side bar: every label whole, the current one named in full above it.
    await progress.waitFor('.stage.current', { text: 'code' });
    assert.match(await progress.text('.status-line'), /stage 3\/6: implement/);
    const cut = await progress.evaluate<string[]>(
      "[...document.querySelectorAll('.stage')].filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent)",
    );
    assert.deepEqual(cut, [], 'stage labels cut off in the side bar');
    await screenshot('progress-header');

    // Accept one proposal, reject the other: the view posts, the extension runs the edit commands.
    await progress.click('li[data-path="src/resample.py"] button[data-action="accept"]');
    await progress.click('li[data-path="reproduce.sh"] button[data-action="reject"]');
    await until('both actions', () => actions.length >= 2);
    assert.deepEqual(actions.slice(0, 2), [
      { kind: 'proposal', action: 'accept', path: 'src/resample.py' },
      { kind: 'proposal', action: 'reject', path: 'reproduce.sh' },
    ]);
    // The decisions come back as events and the list shows them.
    feed.push(
      { type: 'edit_decided', path: 'src/resample.py', decision: 'accepted' },
      { type: 'edit_decided', path: 'reproduce.sh', decision: 'rejected', reason: 'not yet' },
    );
    await progress.waitFor('li[data-path="src/resample.py"][data-status="accepted"]');
    await progress.waitFor('li[data-path="reproduce.sh"][data-status="rejected"]');

    await progress.click('button[data-action="pause"]');
    await until('pause action', () => actions.some((a) => a.kind === 'session' && a.action === 'pause'));
    sub.dispose();

    // Expand the bash step: the command and its output are fetched on demand.
    await progress.click('.tl-row:has-text("bash: pytest -q tests/")');
    await progress.waitFor('.tl-row.open .tl-pre', { text: 'pytest -q tests/' });
    await progress.waitFor('.tl-row.open .tl-pre', { text: 'FAILED tests/test_resample.py' });
    await screenshot('progress-live-session');

    // Keyboard: Enter toggles a row, arrow keys move the focus between rows.
    await progress.press('.tl-row[data-index="3"]', 'Enter');
    await progress.waitFor('.tl-row.open[data-index="3"] .tl-pre', {
      text: 'Implement the resampling estimator',
    });
    await progress.press('.tl-row[data-index="3"]', 'ArrowDown');
    assert.equal(await progress.evaluate<string>('document.activeElement.dataset.index'), '4');
  });

  it('shows early-end checks: the score at each check, per top-level requirement, and leaves not judged', async () => {
    const ui = await klong();
    ui.session.reset();
    await ui.progress.reveal();
    await until('progress view ready', () => ui.progress.isReady);
    const feed = new EventFeed(ui, Date.now() - 3600_000);
    const check = (n: number, score: number, tops: [number, number]) => ({
      type: 'early_end_check' as const,
      step: 3 * n,
      callId: `end-${n}`,
      check: n,
      limit: 3,
      budgetUsed: 0.1 * n,
      score,
      target: 1,
      refused: score < 1,
      leaves: 4,
      unmet: score < 1 ? 2 : 0,
      invalid: n === 2 ? 1 : 0,
      judged: 4,
      tops: [
        { id: 'm', requirements: 'The model is implemented', weight: 3, score: tops[0] },
        { id: 'e', requirements: 'The experiments are run', weight: 1, score: tops[1] },
      ],
      durationMs: 800,
    });
    feed.push(
      {
        type: 'session_started',
        sessionId: 's-early',
        paperTitle: 'Early ends',
        paperPath: '/w/paper.pdf',
        workspace: '/w',
        model: 'scripted-model',
        budgetMs: 12 * 3600_000,
      },
      check(1, 0.25, [0.33, 0]),
      check(2, 0.75, [1, 0]),
    );
    const leaf = (id: string, requirements: string) => ({
      id,
      requirements,
      weight: 1,
      sub_tasks: [],
      task_category: 'Code Development' as const,
      finegrained_task_category: null,
    });
    ui.session.setRubric({
      id: 'root',
      requirements: 'All',
      weight: 1,
      task_category: null,
      finegrained_task_category: null,
      sub_tasks: [leaf('a', 'Judged leaf'), leaf('b', 'Leaf the judge could not grade')],
    });
    ui.session.setGrades({
      '': { score: 1 },
      '0': { score: 1 },
      '1': { score: 0, valid: false, explanation: 'judge answer unparseable' },
    });
    await progress.waitFor('.end-checks', { text: 'Early-end checks: 2 of 3; last 75% (target 100%)' });
    assert.match(await progress.text('.end-checks'), /end refused, 2 unmet, 1 not judged/);
    assert.equal(await progress.count('.end-checks svg circle'), 2);
    const table = await progress.text('.end-checks table');
    assert.match(table, /#1\s*#2/);
    assert.match(table, /The model is implemented\s*33%\s*100%/);
    assert.match(table, /The experiments are run\s*0%\s*0%/);
    await progress.waitFor('.leaf .score.warn', { text: 'n/j' });
    await progress.waitFor('.tl-row .tl-title', { text: 'Early-end check 2/3: 75.0% of the rubric' });
    await progress.evaluate("(document.querySelector('#group-rubric').scrollIntoView(), true)");
    await screenshot('progress-early-end-checks', 'progress');
  });

  it('keeps 100,000 timeline entries smooth: only the rows in view exist', async () => {
    const ui = await klong();
    const feed = new EventFeed(ui);
    const t = Date.now();
    const bodies = [];
    for (let i = 0; i < 50_000; i++) {
      const callId = `x${i}`;
      bodies.push(
        feed.make(
          {
            type: 'tool_call',
            step: 10 + i,
            callId,
            name: 'bash',
            args: JSON.stringify({ command: `python train.py --seed ${i}` }),
          },
          1,
        ),
        feed.make(
          {
            type: 'model_response',
            step: 10 + i,
            message: { role: 'assistant', content: `Step ${i} looks fine.` },
            usage: { promptTokens: 10, cachedTokens: 0, completionTokens: 5 },
            costUsd: 0,
          },
          1,
        ),
      );
    }
    ui.session.applyAll(bodies);
    console.log(`      (folded 100,000 events in ${Date.now() - t} ms)`);
    const total = ui.session.timelineLength;
    assert.ok(total >= 100_000, `timeline has ${total} rows`);
    await progress.waitFor('#group-timeline .count', { text: total.toLocaleString('en-US') });
    // Scrolled up, the view stops following; "Latest" jumps to the end and follows again.
    await progress.evaluate(
      `(() => { const s = document.querySelector('.tl-scroller'); s.scrollTop = 0; s.dispatchEvent(new Event('scroll')); return 0; })()`,
    );
    await progress.click('#tl-latest');
    await progress.waitFor(`.tl-row[data-index="${total - 1}"]`, { text: 'Step 49999 looks fine.' });
    const rows = await progress.count('.tl-row');
    assert.ok(rows > 5 && rows < 200, `${rows} row elements in the DOM for ${total} entries`);
    // Jump to the middle: the rows there are fetched as a page and rendered.
    await progress.evaluate(
      `(() => { const s = document.querySelector('.tl-scroller'); s.scrollTop = s.scrollHeight / 2; return s.scrollTop; })()`,
    );
    await progress.waitFor('.tl-row .tl-title', { text: 'python train.py --seed 2' });
    assert.ok((await progress.count('.tl-row')) < 200);
    await screenshot('progress-100k-timeline');
  });

  it('a running command streams its output into its row; a retry counts down; grading says n of N', async () => {
    const ui = await klong();
    ui.session.reset();
    await ui.progress.reveal();
    await until('progress view ready', () => ui.progress.isReady);
    const feed = new EventFeed(ui);
    feed.push(
      {
        type: 'session_started',
        sessionId: 's-live',
        paperTitle: 'Live output',
        paperPath: '/w/paper.pdf',
        workspace: '/w',
        model: 'scripted-model',
        budgetMs: 3600_000,
      },
      { type: 'status', status: 'running' },
      { type: 'tool_call', step: 1, callId: 'run1', name: 'bash', args: '{"command":"python train.py"}' },
    );
    const row = '.tl-row:has-text("bash: python train.py")';
    await progress.waitFor(row);
    // What the engine hands the view while the command runs (RunHooks.onLive / the control channel).
    const output = (text: string) =>
      ui.session.live({
        kind: 'output',
        callId: 'run1',
        step: 1,
        text,
        start: 0,
        end: text.length,
        done: false,
      });
    output('epoch 1/3 loss 0.91\n');
    await progress.waitFor(`${row} .tl-live`, { text: 'epoch 1/3 loss 0.91' });
    await progress.click(row);
    await progress.waitFor('.tl-row.open .tl-detail-label', { text: 'Output so far (live)' });
    output('epoch 1/3 loss 0.91\nepoch 2/3 loss 0.52\n');
    await progress.waitFor(`${row} .tl-live`, { text: 'epoch 2/3 loss 0.52' });
    await progress.waitFor('.tl-row.open .tl-pre', { text: 'epoch 2/3 loss 0.52' });
    await screenshot('progress-live-output');

    ui.session.live({
      kind: 'retry',
      attempt: 2,
      of: 7,
      reason: '429 rate limited',
      delayMs: 30_000,
      until: Date.now() + 30_000,
    });
    await progress.waitFor('#retry-text', { text: 'attempt 2 of 7' });
    assert.match(await progress.text('#retry-text'), /retrying in \d+ s/);
    assert.match(ui.statusBar.text, /retrying in \d+ s, attempt 2 of 7/);

    // The result ends the live output: the row shows the result, its detail the whole output.
    feed.push({
      type: 'tool_result',
      step: 1,
      callId: 'run1',
      name: 'bash',
      ok: true,
      output: 'epoch 1/3 loss 0.91\nepoch 2/3 loss 0.52\nepoch 3/3 loss 0.40\n[exit code: 0]',
      durationMs: 1500,
    });
    await progress.waitFor('.tl-row.open .tl-detail-label', { text: 'Output (ok, 1.5 s)' });
    assert.equal(await progress.count(`${row} .tl-live`), 0);

    ui.session.live({ kind: 'grading', done: 3, total: 12 });
    await progress.waitFor('#grading-text', { text: 'Grading 3 of 12 leaves' });
    assert.match(ui.statusBar.text, /grading 3 of 12 leaves/);
    await progress.click(row); // close it again for the tests that follow
  });

  it('follows the theme: light and high contrast', async () => {
    const ui = await klong();
    await ui.progress.reveal();
    await until('progress view ready', () => ui.progress.isReady);
    const cfg = vscode.workspace.getConfiguration('workbench');
    // Each part the view's own stylesheet colours must show the current theme's value of the variable
    // it names. (The body's text colour alone proves nothing: VS Code's default webview styles set it.)
    const parts: [selector: string, property: 'color' | 'backgroundColor', variable: string][] = [
      ['#say-text', 'backgroundColor', '--vscode-input-background'],
      ['#say-text', 'color', '--vscode-input-foreground'],
      ['#say-send', 'color', '--vscode-button-secondaryForeground'],
      ['.count.muted', 'color', '--vscode-descriptionForeground'],
    ];
    const colours = () =>
      progress.evaluate<{ part: string; shown: string; theme: string }[]>(
        `(() => {
          const probe = document.createElement('div');
          document.body.append(probe);
          const out = ${JSON.stringify(parts)}.map(([sel, prop, v]) => {
            const el = document.querySelector(sel);
            const defined = getComputedStyle(document.documentElement).getPropertyValue(v).trim() !== '';
            probe.style.color = 'var(' + v + ')';
            return {
              part: sel + ' ' + prop,
              shown: el ? getComputedStyle(el)[prop] : 'no element',
              theme: defined ? getComputedStyle(probe).color : v + ' is not set',
            };
          });
          probe.remove();
          return out;
        })()`,
      );
    const seen = new Map<string, string>();
    try {
      for (const [theme, name] of [
        ['Default Dark Modern', 'progress-theme-dark'],
        ['Default Light Modern', 'progress-theme-light'],
        ['Default High Contrast', 'progress-theme-high-contrast'],
      ] as const) {
        const before = [...seen.values()];
        await cfg.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
        const now = (await until(`the progress view to take the ${theme} colours`, async () => {
          const c = await colours();
          const key = JSON.stringify(c.map((p) => p.theme));
          return before.includes(key) ? undefined : { c, key }; // undefined keeps polling
        }))!;
        for (const p of now.c) assert.equal(p.shown, p.theme, `${theme}: ${p.part}`);
        seen.set(name, now.key);
        if (name !== 'progress-theme-dark') await screenshot(name);
      }
    } finally {
      await cfg.update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    }
    assert.equal(new Set(seen.values()).size, 3, [...seen].join('; '));
  });

  it('renders the agent\u2019s Markdown messages safely: script as text, links through the host', async () => {
    const ui = await klong();
    ui.session.reset();
    await ui.progress.reveal();
    await until('progress view ready', () => ui.progress.isReady);
    assert.ok(ui.links, 'the test API has no links');
    const before = ui.links.opener;
    const opened: string[] = [];
    ui.links.opener = async (uri) => {
      opened.push(uri.toString(true));
      return true;
    };
    try {
      const message = [
        '## Plan for the estimator',
        '',
        '1. read **Section 2**',
        '2. write `resample.py`',
        '',
        '```python',
        'def resample(x, b):',
        '    return [mean(choice(x, len(x))) for _ in range(b)]',
        '```',
        '',
        'Details in [the paper](https://example.org/paper#method).',
        '',
        '<script>window.__klongPwned = 1</script>',
        '<img src=x onerror="window.__klongPwned = 2">',
      ].join('\n');
      new EventFeed(ui).push({
        type: 'model_response',
        step: 1,
        message: { role: 'assistant', content: message },
        usage: { promptTokens: 100, cachedTokens: 0, completionTokens: 50 },
        costUsd: 0.001,
      });
      // The row's title is the message's text without Markdown marks.
      await progress.waitFor('.tl-row .tl-title', {
        text: 'Plan for the estimator read Section 2 write resample.py',
      });
      await progress.click('.tl-row:has-text("Plan for the estimator")');
      const md = '.tl-row.open .tl-md';
      await progress.waitFor(`${md} h2`, { text: 'Plan for the estimator' });
      assert.deepEqual(
        await progress.evaluate<string[]>(
          `[...document.querySelectorAll('${md} ol > li')].map((e) => e.textContent)`,
        ),
        ['read Section 2', 'write resample.py'],
      );
      assert.equal(await progress.text(`${md} li strong`), 'Section 2');
      assert.match(await progress.text(`${md} pre code.language-python`), /def resample\(x, b\):/);
      assert.equal(await progress.count(`${md} script, ${md} img`), 0);
      await progress.waitFor(`${md} p`, { text: '<script>window.__klongPwned = 1</script>' });
      assert.equal(await progress.evaluate<string>('typeof window.__klongPwned'), 'undefined');
      await progress.click(`${md} a[href="https://example.org/paper#method"]`);
      await until('link opened through the host', () => opened.includes('https://example.org/paper#method'));
      await screenshot('progress-markdown-message', 'progress');
    } finally {
      ui.links.opener = before;
    }
  });
});
