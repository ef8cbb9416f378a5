import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentEventBody } from '../../../../src/events/events';
import {
  Blacklist,
  loadBlacklist,
  loadPaper,
  officialRepos,
  paperFromMarkdown,
  parseBlacklistTxt,
  scanEventLog,
  scanEvents,
} from '../../../../src/paper';
import { FIXTURES, fixturesSkip } from '../../../support/fixtures';

const noFixtures = fixturesSkip(FIXTURES);

test('isBlacklisted: host+path prefix, any scheme, .git, case, other GitHub doors; no false prefix', () => {
  const bl = new Blacklist([{ raw: 'https://github.com/mikelma/componet', source: 'paperbench' }]);
  for (const s of [
    'git clone https://github.com/mikelma/componet',
    'git clone https://github.com/mikelma/componet.git /tmp/x',
    'git clone git@github.com:mikelma/componet.git',
    'curl -L HTTPS://WWW.GitHub.com/MikeLma/ComponET/archive/main.zip -o x.zip',
    'wget github.com/mikelma/componet/tree/main/src',
    'pip install git+https://github.com/mikelma/componet@main',
    'curl https://raw.githubusercontent.com/mikelma/componet/main/model.py',
    'curl https://api.github.com/repos/mikelma/componet/contents',
    'gh repo clone mikelma/componet',
    'see http://github.com/mikelma/componet/.',
  ])
    assert.ok(bl.isBlacklisted(s), s);
  for (const s of [
    'git clone https://github.com/mikelma/componet2',
    'git clone https://github.com/mikelma/other',
    'pip install numpy',
    'echo github.com/mikelma',
  ])
    assert.equal(bl.isBlacklisted(s), false, s);
  assert.match(
    bl.refusal('git clone https://github.com/mikelma/componet')!,
    /^Refused: .*PaperBench blacklist/,
  );
  assert.equal(bl.refusal('ls'), undefined);
  assert.equal(new Blacklist().isBlacklisted('https://github.com/x/y'), false);
  assert.throws(() => bl.add('not a url', 'user'), /not a URL/);
});

test('official repositories from the paper text: near "code is available", not in the references', () => {
  const p = paperFromMarkdown(
    `# P

## Abstract

Our code is available at https://github.com/Alice/FastThing. We build on https://github.com/someone/baseline-lib as a dependency.

## 1 Method

Code: gitlab.com/bob/fast-thing-extras

## References

[1] Our earlier code is available at https://github.com/alice/old-project.
`,
    'p.md',
  );
  assert.deepEqual(officialRepos(p), ['github.com/alice/fastthing', 'gitlab.com/bob/fast-thing-extras']);
});

test('PaperBench blacklist.txt ("none" is empty), paper, and user entries', {
  skip: noFixtures,
}, async () => {
  assert.deepEqual(parseBlacklistTxt('none\n'), []);
  const pb = join(FIXTURES, 'paperbench');
  const none = await loadBlacklist({ file: join(pb, 'semantic-self-consistency', 'blacklist.txt') });
  assert.equal(none.size, 0);
  const paper = await loadPaper(join(FIXTURES, 'papers', 'etherington-lieske-resampling', 'paper.pdf'), {
    cacheDir: tmpdir(),
  });
  const bl = await loadBlacklist({
    paper,
    file: join(pb, 'self-composing-policies', 'blacklist.txt'),
    user: ['gitlab.com/Me/Private.git'],
  });
  // The footnote "Code is available at https://github.com/rescience-c/template." on page 1.
  assert.deepEqual(
    bl.entries.map((e) => [e.pattern, e.source]),
    [
      ['github.com/rescience-c/template', 'paper'],
      ['github.com/mikelma/componet', 'paperbench'],
      ['gitlab.com/me/private', 'user'],
    ],
  );
  assert.match(bl.describe(), /do not access[\s\S]*github\.com\/mikelma\/componet \(paperbench\)/);
  await assert.rejects(
    loadBlacklist({ file: '/nope/blacklist.txt' }),
    /\/nope\/blacklist\.txt: blacklist file not found/,
  );
});

test('monitor: tool calls and outputs after the fact, read_paper output ignored', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bl-'));
  const f = join(dir, 'blacklist.txt');
  await writeFile(f, 'https://github.com/mikelma/componet\n');
  const bl = await loadBlacklist({ file: f });
  const events: (AgentEventBody & { seq: number })[] = [
    { seq: 1, type: 'tool_call', step: 1, callId: 'a', name: 'read_paper', args: '{"section":"1"}' },
    {
      seq: 2,
      type: 'tool_result',
      step: 1,
      callId: 'a',
      name: 'read_paper',
      ok: true,
      output: 'code at github.com/mikelma/componet',
      durationMs: 1,
    },
    {
      seq: 3,
      type: 'tool_call',
      step: 2,
      callId: 'b',
      name: 'bash',
      args: '{"command":"pip install -r requirements.txt"}',
    },
    {
      seq: 4,
      type: 'tool_result',
      step: 2,
      callId: 'b',
      name: 'bash',
      ok: true,
      output: 'Collecting componet@ git+https://github.com/mikelma/componet.git',
      durationMs: 1,
    },
    {
      seq: 5,
      type: 'tool_call',
      step: 3,
      callId: 'c',
      name: 'bash',
      args: '{"command":"git clone git@github.com:mikelma/componet"}',
    },
    { seq: 6, type: 'user_message', text: 'https://github.com/mikelma/componet' },
  ];
  const hits = scanEvents(events, bl);
  assert.deepEqual(
    hits.map((h) => [h.seq, h.where, h.tool]),
    [
      [4, 'tool_result', 'bash'],
      [5, 'tool_call', 'bash'],
    ],
  );
  assert.match(hits[0]!.excerpt, /Collecting componet@ git\+https:\/\/github\.com\/mikelma\/componet\.git/);

  // The same over an events.jsonl with a torn last line (crash mid-write).
  const log = join(dir, 'events.jsonl');
  await writeFile(
    log,
    `${events.map((e) => JSON.stringify({ ...e, ts: 1 })).join('\n')}\n{"seq": 7, "type": "tool_call", "ar`,
  );
  assert.deepEqual(
    (await scanEventLog(log, bl)).map((h) => h.seq),
    [4, 5],
  );
  await assert.rejects(scanEventLog(join(dir, 'none.jsonl'), bl), /none\.jsonl: event log not found/);
});
