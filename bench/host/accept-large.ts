/**
 * Child process of bench/large-files.bench.ts: reattaches to the bench's sandbox, auto-accepts the
 * large file the parent wrote there, and prints its memory before and at peak (so the parent's
 * own heap does not count).
 */
import { DirUserFiles, EditQueue } from '../../src/edits';
import { openSandbox } from '../../src/sandbox/index';

async function main(): Promise<void> {
  const [sessionId, workspace, image] = process.argv.slice(2) as [string, string, string];
  const sb = await openSandbox({
    workspace,
    sessionId,
    network: 'none',
    image,
    labels: { 'klong.test': '1' },
  });
  const queue = new EditQueue({ sandbox: sb, user: new DirUserFiles(workspace), mode: 'auto-accept' });
  global.gc?.();
  const before = process.memoryUsage().rss;
  const t = performance.now();
  const { outcomes } = await queue.afterTool(1);
  const ms = performance.now() - t;
  await sb.dispose();
  process.stdout.write(
    `${JSON.stringify({
      before,
      peak: process.resourceUsage().maxRSS * 1024,
      ms,
      outcomes: outcomes.map((o) => `${o.status}: ${o.message}`),
    })}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
