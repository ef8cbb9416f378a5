/**
 * A client whose engine goes away while it waits for an answer (an engine that exits as a window asks
 * its status): the request fails instead of waiting for ever, on a real Unix socket.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CONTROL_FILE, ControlClient, controlAddress } from '../../src/engine/control';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a request in flight fails when the engine closes the channel', {
  skip: process.platform === 'win32' ? 'Unix sockets' : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klong-ctl-close-'));
  dirs.push(dir);
  const address = controlAddress(dir);
  // An "engine" that reads the request and exits without answering.
  const server = createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((r) => server.listen(address, () => r()));
  writeFileSync(
    join(dir, CONTROL_FILE),
    JSON.stringify({ pid: process.pid, address, startedAt: Date.now() }),
  );
  try {
    const client = await ControlClient.connect(dir);
    assert.ok(client);
    let closed = false;
    client.onClose(() => {
      closed = true;
    });
    await assert.rejects(client.status(), /disposed|closed/i);
    assert.ok(closed, 'the close reaches the client’s listeners too');
    client.dispose();
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
