// A chain endpoint where nothing listens (a real closed port, no mock): the validator must refuse to start with a
// plain-words error, quickly, rather than hang or retry forever.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainSync } from './chain-sync.js';
import { keyFromUri } from './keys.js';
import { createLogger } from '../log.js';
import { Store } from '../store.js';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

describe('ChainSync', () => {
  it('says plainly that nothing answers at the endpoint when it starts', async () => {
    const port = await closedPort();
    const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-sync-')), 'v.db'));
    const lines: string[] = [];
    const sync = new ChainSync({
      endpoint: `ws://127.0.0.1:${port}`,
      netuid: 2,
      signer: await keyFromUri('//Alice'),
      version: '0.1.0',
      store,
      log: createLogger('debug', (l) => lines.push(l)),
    });
    const t = Date.now();
    await expect(sync.start()).rejects.toThrow(`nothing answered at ws://127.0.0.1:${port}`);
    expect(Date.now() - t).toBeLessThan(5000);
    expect(sync.connected).toBe(false);
    await sync.close();
    store.close();
  });
});
