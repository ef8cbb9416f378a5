import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { defaultTools, runToolCall, type ToolContext, toolNameOf } from '../../../../src/agent/tools';
import { parseArgumentsText } from '../../../../src/agent/tools/args';
import { DirSandbox } from '../../../support/dir-sandbox';

const sandboxes: DirSandbox[] = [];
after(async () => {
  await Promise.all(sandboxes.map((s) => s.dispose()));
});

async function ctx(files: Record<string, string> = {}) {
  const sandbox = await DirSandbox.create(files);
  sandboxes.push(sandbox);
  const c: ToolContext = { sandbox };
  let n = 0;
  const run = (name: string, args: unknown) =>
    runToolCall(
      { id: `t${++n}`, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
      defaultTools(),
      c,
    );
  return { sandbox, run };
}

const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');

test('arguments text: fences, double encoding and trailing garbage are read; truncation and two objects are not', () => {
  const obj = { command: 'ls -la', timeout_seconds: 5 };
  const cases: [string, string][] = [
    ['plain', JSON.stringify(obj)],
    ['fenced json', `\`\`\`json\n${JSON.stringify(obj)}\n\`\`\``],
    ['fenced bare', `\`\`\`\n${JSON.stringify(obj)}\`\`\``],
    ['fenced, then a stray token', `\`\`\`json\n${JSON.stringify(obj)}\n\`\`\`<|call|>`],
    ['fenced double-encoded', `\`\`\`\n${JSON.stringify(JSON.stringify(obj))}\n\`\`\``],
    ['double-encoded', JSON.stringify(JSON.stringify(obj))],
    ['stray end token', `${JSON.stringify(obj)}<|call|>`],
    ['extra closing brace', `${JSON.stringify(obj)}}`],
    ['braces inside strings', '{"command": "echo \\"}{\\"", "timeout_seconds": 5} trailing'],
  ];
  for (const [what, text] of cases) {
    const r = parseArgumentsText(text);
    assert.ok(r.ok, `${what}: ${JSON.stringify(r)}`);
    if (what === 'braces inside strings')
      assert.deepEqual(r.value, { command: 'echo "}{"', timeout_seconds: 5 });
    else assert.deepEqual(r.value, obj, what);
  }
  assert.deepEqual(parseArgumentsText('  '), { ok: true, value: {} });
  const inner = { path: 'README.md', content: '```bash\nls\n```\n' };
  assert.deepEqual(parseArgumentsText(`\`\`\`json\n${JSON.stringify(inner)}\n\`\`\``), {
    ok: true,
    value: inner,
  });
  const cut = parseArgumentsText('{"path": "a.py", "content": "x = 1');
  assert.equal(cut.ok, false, 'a truncated object is not completed by guessing');
  const two = parseArgumentsText('{"command": "ls"}{"command": "rm -rf /"}');
  assert.equal(two.ok, false);
  assert.match(!two.ok ? two.error : '', /two JSON values/);
});

test('numbers and booleans as strings, an object as a JSON string and null optionals reach the tools', async () => {
  const { sandbox, run } = await ctx({ 'a.txt': `${lines}\n`, 'm.py': 'x = 1\nx = 1\n' });
  const r = await run('read_file', { path: 'a.txt', start_line: '3', end_line: ' 4 ' });
  assert.equal(r.ok, true, r.output);
  assert.equal(r.output, 'a.txt (lines 3-4 of 30):\n3\tline 3\n4\tline 4\n');
  const e = await run('edit_file', {
    path: 'm.py',
    old_text: 'x = 1',
    new_text: 'x = 2',
    replace_all: 'true',
  });
  assert.equal(e.ok, true, e.output);
  assert.equal(Buffer.from(await sandbox.readFile('m.py')).toString(), 'x = 2\nx = 2\n');
  const t = await run('bash', JSON.stringify(JSON.stringify({ command: 'sleep 5', timeout_seconds: '1' })));
  assert.match(t.output, /timed out after 1 s/, 'double-encoded arguments with a string number');
  const n = await run('search', { pattern: 'x = 2', path: null });
  assert.equal(n.ok, true, n.output);
  assert.match(n.output, /m\.py:1:x = 2/);
});

test('a call wrapped in {name, arguments} and a dressed tool name reach the tool', async () => {
  const { run } = await ctx();
  const w = await run('bash', { name: 'bash', arguments: { command: 'echo wrapped' } });
  assert.equal(w.output, 'wrapped\n[exit code: 0]');
  const s = await run('bash', { arguments: JSON.stringify({ command: 'echo as text' }) });
  assert.equal(s.output, 'as text\n[exit code: 0]');
  const other = await run('bash', { name: 'write_file', arguments: { command: 'echo no' } });
  assert.equal(other.ok, false, 'a wrapper naming another tool is not unwrapped');
  assert.match(other.output, /missing required argument "command"/);
  for (const name of ['functions.bash', 'bash<|channel|>commentary', ' bash ']) {
    assert.equal(toolNameOf(name, defaultTools()), 'bash', name);
    const r = await run(name, { command: 'echo named' });
    assert.equal(r.output, 'named\n[exit code: 0]', name);
  }
  assert.equal(toolNameOf('functions.rm_rf', defaultTools()), 'functions.rm_rf');
});

test('update_plan: plain strings become to-do items; Codex-style plan/step/status words are understood', async () => {
  const { run } = await ctx();
  const p = await run('update_plan', { items: ['read the paper', { text: 'write code', status: 'doing' }] });
  assert.equal(p.ok, true, p.output);
  assert.deepEqual(p.plan, [
    { text: 'read the paper', status: 'todo' },
    { text: 'write code', status: 'doing' },
  ]);
  const codex = await run('update_plan', {
    plan: [
      { step: 'Read', status: 'completed' },
      { step: 'Train', status: 'in_progress' },
      { step: 'Report', status: 'pending' },
    ],
  });
  assert.deepEqual(codex.plan, [
    { text: 'Read', status: 'done' },
    { text: 'Train', status: 'doing' },
    { text: 'Report', status: 'todo' },
  ]);
  const asText = await run('update_plan', { items: JSON.stringify(['a', 'b']) });
  assert.deepEqual(
    asText.plan?.map((i) => i.text),
    ['a', 'b'],
  );
});

test('unclear arguments are refused with the names, the types and an example', async () => {
  const { sandbox, run } = await ctx({ 'a.txt': 'a\n' });
  const words = await run('read_file', { path: 'a.txt', start_line: 'three' });
  assert.equal(words.ok, false);
  assert.match(words.output, /argument "start_line" must be an integer/);
  assert.match(
    words.output,
    /Expected arguments: \{"path": string, "start_line"\?: integer, "end_line"\?: integer\}/,
  );
  assert.match(words.output, /Example: \{"path":"…"\}/);
  const frac = await run('bash', { command: 'ls', timeout_seconds: '1.5' });
  assert.match(frac.output, /"timeout_seconds" must be an integer/);
  const yes = await run('edit_file', { path: 'a.txt', old_text: 'a', new_text: 'b', replace_all: 'yes' });
  assert.match(yes.output, /"replace_all" must be a boolean/);
  assert.equal(Buffer.from(await sandbox.readFile('a.txt')).toString(), 'a\n', 'nothing was edited');
  const status = await run('update_plan', { items: [{ text: 'x', status: 'maybe' }] });
  assert.equal(status.ok, false);
  assert.match(status.output, /"items\[0\]\.status" must be one of "todo", "doing", "done"/);
  assert.match(status.output, /Example: \{"items":\[\{"text":"Read the method section","status":"done"\}/);
  const arr = await run('bash', '["ls"]');
  assert.match(arr.output, /the arguments must be an object/);
  const bad = await run('write_file', '{"path": "a.py", "content": "x = 1');
  assert.match(bad.output, /not valid JSON[\s\S]*Expected arguments: \{"path": string, "content": string\}/);
});
