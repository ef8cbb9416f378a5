/**
 * Runs inside the VS Code extension host (as an extensionTestsPath): activates a trivial extension
 * (the baseline) and then KLong, timing each activate() from the same host, and prints the result.
 */
import * as vscode from 'vscode';
import { OUTPUT_PREFIX } from '../../test/e2e/harness/driver-protocol';

async function time(id: string): Promise<number> {
  const ext = vscode.extensions.getExtension(id);
  if (!ext) throw new Error(`extension ${id} is not loaded`);
  if (ext.isActive) throw new Error(`extension ${id} was already active`);
  const t0 = performance.now();
  await ext.activate();
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  try {
    const baseline = await time('klong-bench.baseline');
    const ours = await time('klong-dev.klong');
    console.log(`${OUTPUT_PREFIX}RESULT ${JSON.stringify({ baseline, ours })}`);
  } catch (err) {
    console.log(`${OUTPUT_PREFIX}ERROR ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
}
