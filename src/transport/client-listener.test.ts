import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ClientListener, type ClientConnection, type ClientHandler } from './client-listener.js';

// Swept every min(1 s, timeout): a 2.5 s timeout is checked at least twice before it is due.
const TIMEOUT_MS = 2500;

async function withListener(body: (port: number, limits: string[]) => Promise<void>): Promise<void> {
  const limits: string[] = [];
  const handler: ClientHandler = {
    onFrame: () => undefined,
    onFourLetterWord: () => undefined,
    onClose: () => undefined,
    onLimit: (kind, _c: ClientConnection | null, detail) => limits.push(`${kind}: ${detail}`),
  };
  const l = new ClientListener({ host: '127.0.0.1', port: 0, maxFrameBytes: 1 << 20, maxClientCnxns: 0, fourLetterWords: new Set(), sessionlessTimeoutMs: TIMEOUT_MS }, handler);
  await l.listen();
  try {
    await body(l.address().port, limits);
  } finally {
    await l.close();
  }
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

// The sessionless timeout measures quiet time: it must not move when NTP steps the wall clock.
describe('ClientListener sessionless timeout under wall-clock steps', () => {
  const realNow = Date.now;
  afterEach(() => {
    Date.now = realNow;
  });

  it('a step forward closes no connection before it has been quiet for the timeout', async () => {
    await withListener(async (port, limits) => {
      const s = await connect(port);
      const connectedAt = performance.now();
      Date.now = () => realNow() + 3_600_000;
      await once(s, 'close');
      const quiet = performance.now() - connectedAt;
      assert.ok(quiet >= TIMEOUT_MS, `closed after ${Math.round(quiet)} ms of quiet, before the ${TIMEOUT_MS} ms timeout (the wall clock had stepped an hour ahead)`);
      assert.equal(limits.length, 1, limits.join('; '));
      assert.match(limits[0]!, /^sessionless: /);
    });
  });

  it('a step back does not keep a quiet connection open', async () => {
    await withListener(async (port, limits) => {
      const s = await connect(port);
      Date.now = () => realNow() - 3_600_000;
      await once(s, 'close');
      assert.equal(limits.length, 1, limits.join('; '));
    });
  });
});
