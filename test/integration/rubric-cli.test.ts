/**
 * `node dist/cli.js rubric check|show|generate` on PaperBench's published rubrics (../shared), on
 * generated deep, wide, invalid and repeated-id rubrics, and against the scripted model; and
 * `klong reproduce` without --rubric writing one first (real container, network none).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { serializeRubric } from '../../src/paper';
import { CLI, cliCleanup, cliDockerSkip, reproduceArgs, runCli, sessionEvents } from '../support/cli-run';
import { FIXTURES, fixturesSkip } from '../support/fixtures';
import { type ChatBody, call, reply, tools } from '../support/model-server';
import { leafNode, wideDeepRubric } from '../support/rubrics';

const noCli = existsSync(CLI) ? false : 'dist/cli.js is missing: run `npm run build` first';
if (noCli) console.log(`# ${noCli}; skipped`);
const pbDir = join(FIXTURES, 'paperbench');
const noFixtures = noCli || fixturesSkip(pbDir);
if (noFixtures && !noCli) console.log(`# ${noFixtures}; PaperBench rubric tests skipped`);
const cleanup = cliCleanup();

// From ../shared/fixtures/paperbench/README.md ("Tree statistics").
const PAPERBENCH = {
  'semantic-self-consistency': { nodes: 100, leaves: 77, depth: 5, dev: 50, exec: 21, res: 6 },
  'self-expansion': { nodes: 363, leaves: 253, depth: 7, dev: 70, exec: 159, res: 24 },
  'self-composing-policies': { nodes: 357, leaves: 275, depth: 6, dev: 151, exec: 96, res: 28 },
};

interface CheckJson {
  valid: boolean;
  errors: { path: (string | number)[]; where: string; line: number; column: number; message: string }[];
  warnings: { where: string; line: number; column: number; message: string }[];
  stats?: {
    nodes: number;
    leaves: number;
    depth: number;
    totalWeight: number;
    categories: Record<string, { leaves: number; share: number }>;
  };
}

function write(name: string, text: string): string {
  const file = join(cleanup.temp('klong-rubric-'), name);
  writeFileSync(file, text);
  return file;
}

describe('klong rubric on PaperBench rubrics', { skip: noFixtures }, () => {
  for (const [id, want] of Object.entries(PAPERBENCH)) {
    test(`${id}: check is clean with the README's statistics; show starts with the leaf count`, async () => {
      const file = join(pbDir, id, 'rubric.json');
      const r = await runCli(['rubric', 'check', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /valid PaperBench rubric\./);
      assert.match(r.stdout, new RegExp(`leaves: +${want.leaves} \\(of ${want.nodes} nodes\\)`));
      assert.match(r.stdout, new RegExp(`depth: +${want.depth} levels`));
      assert.match(r.stdout, new RegExp(`Code Execution: +${want.exec} leaves, [\\d.]+% of the score`));
      const j = await runCli(['rubric', 'check', file, '--json']);
      assert.equal(j.code, 0);
      const parsed = JSON.parse(j.stdout) as CheckJson;
      assert.equal(parsed.valid, true);
      assert.deepEqual(parsed.errors, []);
      assert.deepEqual(
        [parsed.stats!.leaves, parsed.stats!.depth, parsed.stats!.nodes],
        [want.leaves, want.depth, want.nodes],
      );
      const c = parsed.stats!.categories;
      assert.deepEqual(
        [c['Code Development']!.leaves, c['Code Execution']!.leaves, c['Result Analysis']!.leaves],
        [want.dev, want.exec, want.res],
      );
      const total = Object.values(c).reduce((a, x) => a + x.share, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `category shares sum to ${total}`);
      const show = await runCli(['rubric', 'show', file]);
      assert.equal(show.code, 0, show.stderr);
      const lines = show.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, new RegExp(`^${want.leaves} leaves \\(${want.dev} code development, `));
      assert.equal(lines.length, 1 + want.nodes, 'one line per node after the count');
      assert.match(lines[1]!, /^- \[w\d+\] The (core contributions|paper .* has been reproduced)/);
    });
  }
});

describe('klong rubric on generated rubrics', { skip: noCli }, () => {
  test('deep and wide (1,200 leaves, 10 levels, repeated ids): valid with warnings, shown whole or cut', async () => {
    const big = wideDeepRubric({ depth: 10, leaves: 1_200, groups: 30 });
    const file = write('big.json', serializeRubric(big));
    const r = await runCli(['rubric', 'check', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /valid PaperBench rubric with 12 warning\(s\)/);
    assert.match(r.stdout, /leaves: +1200 /);
    assert.match(r.stdout, /depth: +10 levels/);
    // Each warning names the place of the repeated id in the file.
    const warn = r.stdout.split('\n').filter((l) => l.includes('(warning)'));
    assert.equal(warn.length, 12);
    const [, line, col] = /big\.json:(\d+):(\d+): sub_tasks\[\d+\]/.exec(warn[0]!)!;
    const text = readFileSync(file, 'utf8').split('\n')[Number(line) - 1]!;
    assert.match(text.slice(Number(col) - 1), /^"n-\d+",$/);
    assert.match(warn[0]!, /\.id: repeated id n-\d+ \(also at sub_tasks/);

    const show = await runCli(['rubric', 'show', file, '--depth', '2']);
    assert.equal(show.code, 0, show.stderr);
    const lines = show.stdout.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^1200 leaves \(400 code development, 400 code execution, 400 result analysis\), depth 10$/,
    );
    assert.equal(lines.length, 2 + 30);
    assert.match(lines[2]!, /^ {2}- \[w\d+ \d+%\] Requirement group at level 2 \[\+40 leaves\]$/);
    assert.match(show.stderr, /big\.json: 12 warning\(s\); see "klong rubric check /);
    const whole = await runCli(['rubric', 'show', file]);
    const all = whole.stdout.trimEnd().split('\n');
    assert.equal(all.length, 1 + 1 + 30 * 8 + 1_200);
    assert.match(all.at(-1)!, /^ {18}- \[w\d+ \d+%\] \((dev|exec|result)\) Leaf requirement 1200$/);
  });

  test('a wide, flat rubric with a zero weight: the warning, and the score shares of the categories', async () => {
    const wide = {
      ...leafNode('root', 1),
      task_category: null,
      sub_tasks: [
        ...Array.from({ length: 300 }, (_, i) => leafNode(`d${i}`, 1, 'Code Development')),
        leafNode('e', 100, 'Code Execution'),
        leafNode('z', 0, 'Result Analysis'),
      ],
    };
    const file = write('wide.json', JSON.stringify(wide, null, 2));
    const j = await runCli(['rubric', 'check', '--json', file]);
    assert.equal(j.code, 0, j.stderr);
    const r = JSON.parse(j.stdout) as CheckJson;
    assert.equal(r.stats!.depth, 2);
    assert.equal(r.stats!.categories['Code Execution']!.share, 0.25);
    assert.equal(r.stats!.categories['Result Analysis']!.share, 0);
    assert.deepEqual(
      r.warnings.map((w) => [w.where, w.message]),
      [['sub_tasks[301].weight', '0, so this requirement never counts toward the score']],
    );
  });

  test('invalid: every error with its JSON path and line/column, exit 1; show refuses it', async () => {
    const rubric = {
      ...leafNode('root', 1),
      task_category: null,
      sub_tasks: [
        leafNode('a', 1),
        { ...leafNode('b', 1), weight: 'heavy' },
        { ...leafNode('c', 1), task_category: null },
      ],
    };
    const text = JSON.stringify(rubric, null, 2);
    const file = write('bad.json', text);
    const r = await runCli(['rubric', 'check', file]);
    assert.equal(r.code, 1);
    const lines = text.split('\n');
    const heavy = lines.findIndex((l) => l.includes('"heavy"')) + 1;
    assert.match(
      r.stdout,
      new RegExp(
        `bad\\.json:${heavy}:17: sub_tasks\\[1\\]\\.weight: expected number, received string \\(error\\)`,
      ),
    );
    assert.match(r.stdout, /1 error\(s\): not a usable rubric/);
    const j = JSON.parse((await runCli(['rubric', 'check', file, '--json'])).stdout) as CheckJson;
    assert.equal(j.valid, false);
    assert.deepEqual(j.errors[0]!.path, ['sub_tasks', 1, 'weight']);
    assert.equal(j.errors[0]!.line, heavy);

    // Once the types are right it is usable: a leaf without a category is only a warning (PaperBench
    // accepts it), at its place in the file.
    const fixed = write('fixed.json', text.replace('"heavy"', '1'));
    const f = await runCli(['rubric', 'check', fixed]);
    assert.equal(f.code, 0, f.stdout);
    const nullCat = lines.findIndex((l, i) => i > heavy && l.includes('"task_category": null')) + 1;
    assert.match(
      f.stdout,
      new RegExp(
        `fixed\\.json:${nullCat}:24: sub_tasks\\[2\\]\\.task_category: a leaf without a category .* is graded as Code Development \\(warning\\)`,
      ),
    );
    assert.match(f.stdout, /valid PaperBench rubric with 1 warning\(s\)/);
    assert.match(f.stdout, /Code Development: +3 leaves, 100\.0% of the score/);

    const syntax = write('syntax.json', '{\n  "id": "r",\n  "weight": 1\n  "sub_tasks": []\n}\n');
    const s = await runCli(['rubric', 'check', syntax]);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /syntax\.json:4:3: \(root\): not valid JSON: CommaExpected \(error\)/);

    const show = await runCli(['rubric', 'show', file]);
    assert.equal(show.code, 1);
    assert.equal(show.stdout, '');
    assert.match(show.stderr, /bad\.json: not a usable rubric \(1 error\(s\)\); see "klong rubric check"/);
  });

  test('usage: --help per subcommand, missing file, unknown subcommand, no key for generate', async () => {
    for (const sub of ['check', 'show', 'generate']) {
      const h = await runCli(['rubric', sub, '--help']);
      assert.equal(h.code, 0);
      assert.match(h.stdout, new RegExp(`^Usage: klong rubric ${sub} `));
    }
    const top = await runCli(['rubric', '--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /check FILE[\s\S]*show FILE[\s\S]*generate PAPER/);
    assert.match((await runCli(['--help'])).stdout, /rubric check\|show\|generate/);
    const missing = await runCli(['rubric', 'check', '/nonexistent/rubric.json']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/nonexistent\/rubric\.json: file not found/);
    const none = await runCli(['rubric', 'show']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /klong rubric show takes one file/);
    const unknown = await runCli(['rubric', 'lint', 'x.json']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown subcommand "lint"/);
    const nokey = await runCli(['rubric', 'generate', 'p.md'], { env: { KLONG_API_KEY: undefined } });
    assert.equal(nokey.code, 2);
    assert.match(nokey.stderr, /no API key/);
  });
});

/** The scripted model's answer to the rubric generator: a valid draft with 2 leaves. */
const DRAFT = {
  requirements: 'The core contributions of the paper have been reproduced.',
  weight: 1,
  sub_tasks: [
    {
      requirements: 'hello.py prints hello and a number.',
      weight: 1,
      sub_tasks: [],
      task_category: 'Code Development',
      finegrained_task_category: 'Method Implementation',
    },
    {
      requirements: 'Running reproduce.sh prints "hello 42".',
      weight: 1,
      sub_tasks: [],
      task_category: 'Result Analysis',
      finegrained_task_category: 'Evaluation, Metrics & Benchmarking',
    },
  ],
};
const isGenerator = (req: ChatBody) => /You write grading rubrics/.test(req.messages[0]?.content ?? '');
const isJudge = (req: ChatBody) => /expert judge grading/.test(req.messages[0]?.content ?? '');

describe('klong rubric generate', { skip: noCli }, () => {
  test('writes a PaperBench rubric from the paper with the scripted model; check passes on it', async () => {
    const server = await cleanup.modelServer(
      [reply(`Here it is:\n\`\`\`json\n${JSON.stringify(DRAFT)}\n\`\`\``)],
      {
        apiKey: 'sk-test',
      },
    );
    const s = cleanup.session('gen');
    const out = join(cleanup.temp('klong-rubric-out-'), 'rubric.json');
    const r = await runCli([
      'rubric',
      'generate',
      s.paper,
      '--out',
      out,
      '--model',
      'rubric-model',
      '--base-url',
      server.url,
      '--state-dir',
      s.stateDir,
      '--leaves',
      '12',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Writing a grading rubric for "Tiny Paper" with rubric-model/);
    assert.match(r.stderr, /2 leaves, depth 2 \(1 dev, 0 exec, 1 result\); \d+ repair\(s\) made → /);
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]!.model, 'rubric-model');
    assert.match(server.requests[0]!.messages[0]!.content!, /Aim for about 12 leaves/);
    assert.match(server.requests[0]!.messages[1]!.content!, /Run hello\.py; expect "hello 42"/);
    const text = readFileSync(out, 'utf8');
    assert.match(text, /^\{\n {4}"id": "[0-9a-f-]{36}",\n {4}"requirements"/, "PaperBench's layout");
    const c = await runCli(['rubric', 'check', out]);
    assert.equal(c.code, 0, c.stdout);
    assert.match(c.stdout, /valid PaperBench rubric\.\n/);
  });

  test('a model that cannot write a valid rubric: exit 1 with the problems, nothing written', async () => {
    const bad = { requirements: 'Root of it all.', weight: 1, sub_tasks: [] };
    const server = await cleanup.modelServer([reply(JSON.stringify(bad)), reply(JSON.stringify(bad))], {
      apiKey: 'sk-test',
    });
    const s = cleanup.session('genbad');
    const out = join(cleanup.temp('klong-rubric-out-'), 'rubric.json');
    const r = await runCli([
      'rubric',
      'generate',
      s.paper,
      '--out',
      out,
      '--base-url',
      server.url,
      '--state-dir',
      s.stateDir,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid rubric[\s\S]*the rubric has no sub-tasks/);
    assert.equal(server.requests.length, 2, 'sent back once with its problems');
    assert.equal(existsSync(out), false);
  });
});

describe('klong reproduce --rubric with a repeated id', { skip: noCli || cliDockerSkip() }, () => {
  test('runs (a warning, not a refusal) and grades the two leaves that share an id apart', async () => {
    const dup = {
      ...leafNode('root', 1),
      task_category: null,
      sub_tasks: [
        leafNode('same-id', 1, 'Code Development', 'hello.py prints hello.'),
        leafNode('same-id', 1, 'Code Development', 'goodbye.py prints goodbye.'),
      ],
    };
    const rubricFile = write('dup.json', JSON.stringify(dup, null, 2));
    let step = 0;
    const server = await cleanup.modelServer(
      (req) => {
        if (isJudge(req)) {
          const hello = /# Requirement to grade\n\nhello\.py/.test(req.messages[1]!.content!);
          return reply(
            `{"score": ${hello ? 1 : 0}, "explanation": "${hello ? 'hello.py is there' : 'no goodbye.py'}"}`,
          );
        }
        step++;
        return step === 1
          ? tools(call('write_file', { path: 'hello.py', content: 'print("hello")\n' }))
          : tools(call('end_task', { summary: 'hello only' }));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('dup-id');
    const args = reproduceArgs(s, server.url).filter((a) => a !== '--no-rubric');
    const r = await runCli([...args, '--rubric', rubricFile, '--no-final-run', '--approval', 'auto-accept']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: .*dup\.json: sub_tasks\[1\]\.id: repeated id same-id \(also at sub_tasks\[0\]\)/,
    );
    assert.equal(server.requests.filter(isJudge).length, 2);
    assert.match(r.stderr, /Grade: 50\.0% of the rubric/);
    const grade = JSON.parse(readFileSync(join(s.stateDir, s.sessionId, 'grade.json'), 'utf8'));
    assert.deepEqual(
      grade.sub_tasks.map((l: { id: string; score: number }) => [l.id, l.score]),
      [
        ['same-id', 1],
        ['same-id', 0],
      ],
    );
  });
});

describe('klong reproduce without --rubric', { skip: noCli || cliDockerSkip() }, () => {
  test('writes a rubric first (as VS Code does), puts it in the agent head, grades with it; with no reproduce.sh the result leaf is not asked; --no-rubric skips it', async () => {
    let agentStep = 0;
    const server = await cleanup.modelServer(
      (req) => {
        if (isGenerator(req)) return reply(JSON.stringify(DRAFT));
        if (isJudge(req)) return reply('{"score": 1, "explanation": "looks fine"}'); // over-generous
        agentStep++;
        return agentStep === 1
          ? tools(call('write_file', { path: 'hello.py', content: 'print("hello", 42)\n' }))
          : tools(call('end_task', { summary: 'done' }));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('gen-rubric');
    const args = reproduceArgs(s, server.url).filter((a) => a !== '--no-rubric');
    // The final run is on: it finds no reproduce.sh.
    const r = await runCli([...args, '--approval', 'auto-accept']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Writing a grading rubric from the paper/);
    assert.ok(isGenerator(server.requests[0]!), 'the rubric is written before the agent starts');
    const agent = server.requests.filter((q) => !isGenerator(q) && !isJudge(q));
    assert.match(
      JSON.stringify(agent[0]!.messages.slice(0, 2)),
      /# Rubric \(how the reproduction will be graded\)[\s\S]*\[w1[^\]]*\] \(result\) Running reproduce\.sh prints/,
    );
    const saved = join(s.stateDir, s.sessionId, 'rubric.json');
    assert.ok(existsSync(saved), 'the generated rubric is kept in the session folder');
    // Only the Code Development leaf went to the judge; the Result Analysis one is decided by the
    // missing reproduce.sh, so the over-generous judge cannot pass it.
    const judged = server.requests.filter(isJudge);
    assert.equal(judged.length, 1);
    assert.match(judged[0]!.messages[1]!.content!, /# Requirement to grade\n\nhello\.py prints hello/);
    assert.match(r.stderr, /Grade: 50\.0% of the rubric/);
    const report = readFileSync(join(s.workspace, 'REPRODUCTION.md'), 'utf8');
    assert.match(
      report,
      /1 Code Execution \/ Result Analysis requirement\(s\) scored 0 without asking the judge: the submission has no reproduce\.sh/,
    );
    assert.match(
      report,
      /Running reproduce\.sh prints "hello 42"\. \| Result Analysis \| 1 \| ❌ 0 \(no judge\)/,
    );
    const grade = JSON.parse(readFileSync(join(s.stateDir, s.sessionId, 'grade.json'), 'utf8'));
    assert.equal(grade.sub_tasks[1].judge_metadata, null);
    assert.ok(sessionEvents(s.stateDir, s.sessionId).some((e) => e.type === 'grade'));

    // --no-rubric: no generator call, no judge call, and the report says it was not graded.
    const before = server.requests.length;
    agentStep = 0;
    const s2 = cleanup.session('no-rubric');
    const r2 = await runCli([
      ...reproduceArgs(s2, server.url),
      '--no-final-run',
      '--approval',
      'auto-accept',
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    const later = server.requests.slice(before);
    assert.equal(later.filter(isGenerator).length, 0);
    assert.equal(later.filter(isJudge).length, 0);
    assert.doesNotMatch(r2.stderr, /Writing a grading rubric|Grade:/);
    assert.match(readFileSync(join(s2.workspace, 'REPRODUCTION.md'), 'utf8'), /Not graded: no rubric/);
  });
});
