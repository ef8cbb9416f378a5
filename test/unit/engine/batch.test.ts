import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openBatch, saveBatch } from '../../../src/engine/batch';
import { loadPapers, parseStages } from '../../../src/engine/batch-papers';
import { summaryCsv, summaryMarkdown } from '../../../src/engine/batch-summary';

const base = mkdtempSync(join(tmpdir(), 'klong-batch-unit-'));
after(() => rmSync(base, { recursive: true, force: true }));
const cli = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

test('stages: durations that grow stage by stage; anything else is refused with the reason', () => {
  assert.deepEqual(parseStages('2h,4h,12h'), [
    { label: '2h', budgetMs: 2 * 3600_000 },
    { label: '4h', budgetMs: 4 * 3600_000 },
    { label: '12h', budgetMs: 12 * 3600_000 },
  ]);
  assert.deepEqual(
    parseStages(' 90m , 3h ').map((s) => s.budgetMs),
    [90 * 60_000, 3 * 3600_000],
  );
  assert.throws(() => parseStages('4h,2h'), /must grow stage by stage .* 2h after 4h/);
  assert.throws(() => parseStages('2h,two'), /--stages: Not a duration: "two"/);
  assert.throws(() => parseStages(' , '), /at least one duration/);
});

test('papers.json: paths relative to the file, ids from names, clear errors for bad entries', () => {
  const dir = join(base, 'p1');
  mkdirSync(join(dir, 'adam', 'start'), { recursive: true });
  writeFileSync(join(dir, 'adam', 'rubric.json'), '{}');
  const file = join(dir, 'papers.json');
  writeFileSync(
    file,
    JSON.stringify([
      { paper: 'adam/Adam Paper.pdf', rubric: 'adam/rubric.json', workspace: 'adam/start' },
      '2602.17547',
      { id: 'bert', paper: 'https://example.invalid/bert.pdf' },
    ]),
  );
  assert.deepEqual(loadPapers(file), [
    {
      id: 'Adam-Paper',
      paper: join(dir, 'adam', 'Adam Paper.pdf'),
      rubric: join(dir, 'adam', 'rubric.json'),
      workspace: join(dir, 'adam', 'start'),
    },
    { id: '2602.17547', paper: '2602.17547' },
    { id: 'bert', paper: 'https://example.invalid/bert.pdf' },
  ]);
  const bad = (v: unknown, re: RegExp) => {
    writeFileSync(file, JSON.stringify(v));
    assert.throws(() => loadPapers(file), re);
  };
  bad({}, /must be a JSON array of papers/);
  bad([{ rubric: 'x.json' }], /entry 1: "paper" .* is required/);
  bad([{ paper: 'a.pdf' }, { paper: 'b/a.pdf' }], /two papers have the id "a"/);
  bad([{ paper: 'a.pdf', rubric: 'missing.json' }], /paper "a": .*missing\.json does not exist/);
  bad([{ paper: 'a.pdf', workspace: 'nowhere' }], /workspace .*nowhere is not a folder/);
  bad([{ paper: 'a.pdf', id: 3 }], /"id" must be a string/);
  writeFileSync(file, '[{"paper": ');
  assert.throws(() => loadPapers(file), /Cannot read .*papers\.json/);
});

test('a batch: runs stage by stage with fixed session ids; reopening needs the same papers and stages', () => {
  const dir = join(base, 'p2');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'papers.json');
  writeFileSync(
    file,
    JSON.stringify([
      { id: 'a', paper: 'a.md' },
      { id: 'b', paper: 'b.md' },
    ]),
  );
  const out = join(dir, 'out');
  const stages = parseStages('1h,2h');
  const st = openBatch({ papersFile: file, stages, outDir: out });
  assert.deepEqual(
    st.runs.map((r) => [r.paper, r.stage, r.sessionId, r.status]),
    [
      ['a', 0, `${st.batchId}-a-s1`, 'pending'],
      ['b', 0, `${st.batchId}-b-s1`, 'pending'],
      ['a', 1, `${st.batchId}-a-s2`, 'pending'],
      ['b', 1, `${st.batchId}-b-s2`, 'pending'],
    ],
  );
  st.runs[0]!.status = 'done';
  st.runs[0]!.reward = 0.25;
  st.runs[1]!.status = 'failed';
  st.runs[1]!.error = 'Docker said "no", twice,\nthen stopped';
  st.runs[2]!.status = 'done';
  st.runs[2]!.reward = 1;
  saveBatch(out, st);
  const again = openBatch({ papersFile: file, stages, outDir: out });
  assert.equal(again.batchId, st.batchId);
  assert.equal(again.runs[0]!.reward, 0.25);
  assert.throws(
    () => openBatch({ papersFile: file, stages: parseStages('1h,3h'), outDir: out }),
    /holds a batch with other papers or stages/,
  );
  writeFileSync(join(out, 'batch.json'), '{"runs": [');
  assert.throws(
    () => openBatch({ papersFile: file, stages, outDir: out }),
    /batch\.json is unreadable .* sessions .* are intact/,
  );
  // CSV: one row per run, quoted where needed; Markdown: the per-stage mean of graded runs.
  const csv = summaryCsv(again);
  assert.equal(readFileSync(join(out, 'summary.csv'), 'utf8'), csv);
  const rows = csv.trimEnd().split('\n');
  assert.equal(rows.length, 6); // header + 4 runs + the quoted error's second line
  assert.match(csv, /,failed,,0,0\.0,0\.0000,"Docker said ""no"", twice,\nthen stopped"\n/);
  const md = summaryMarkdown(again);
  assert.match(md, /\| 1 \| 1h \| 1\/2 \| 1 \| 0\.2500 \|/);
  assert.match(md, /\| 2 \| 2h \| 1\/2 \| 1 \| 1\.0000 \|/);
  assert.match(md, /Docker said "no", twice, then stopped/);
});

test('klong batch: usage and input errors exit 2 with the reason', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cli, 'batch', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, KLONG_API_KEY: 'k' },
    });
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /progressive/);
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /give one papers\.json/);
  const stages = run('p.json', '--stages', '3h,1h');
  assert.equal(stages.status, 2);
  assert.match(stages.stderr, /must grow stage by stage/);
  const conc = run('p.json', '--concurrency', '1.5');
  assert.equal(conc.status, 2);
  assert.match(conc.stderr, /--concurrency must be a positive whole number/);
  const missing = run(join(base, 'nope.json'), '--out', join(base, 'o'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /Cannot read .*nope\.json/);
  const nokey = spawnSync(process.execPath, [cli, 'batch', 'p.json'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  assert.match(nokey.stderr, /no API key/);
});

test('klong batch honours DOCKER_HOST: an engine that is not there fails the run and names that address', () => {
  const dir = join(base, 'dh');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'g.md'), '# Gamma Paper\n\n## Abstract\n\nHello.\n');
  writeFileSync(
    join(dir, 'rubric.json'),
    JSON.stringify({
      id: 'root',
      requirements: 'Hello is printed.',
      weight: 1,
      task_category: 'Code Development',
      finegrained_task_category: null,
      sub_tasks: [],
    }),
  );
  writeFileSync(join(dir, 'papers.json'), JSON.stringify([{ paper: 'g.md', rubric: 'rubric.json' }]));
  const sock = join(dir, 'no-such-docker.sock');
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'batch',
      join(dir, 'papers.json'),
      '--stages',
      '1m',
      '--out',
      join(dir, 'out'),
      '--network',
      'none',
    ],
    {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        KLONG_API_KEY: 'k',
        DOCKER_HOST: `unix://${sock}`,
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      },
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`\\[g · stage 1 1m\\] failed: .*unix://${sock}`));
  assert.match(r.stderr, /1 run\(s\) did not finish .* run the same command again/);
  const csv = readFileSync(join(dir, 'out', 'summary.csv'), 'utf8');
  assert.match(csv, new RegExp(`^g,1,1m,b\\w+-g-s1,failed,,0,.*unix://${sock}`, 'm'));
});
