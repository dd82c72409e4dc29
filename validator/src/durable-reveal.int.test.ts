// Integration: durable reveals. The real veracity-validator CLI is killed with SIGKILL while a real Node miner holds
// label commitments that were never revealed (reveal windows set far apart, so none was before the kill). The CLI
// restarts on the same database and port, the miner reconnects on its own, and at once gets the labels and salts of
// every commitment it received before the kill, which it verifies against them. Before durable reveals the salts
// lived in memory only and died with the process: the miner could never audit those challenges.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { type MinerEvent, NodeMiner } from './miner/node-miner.js';
import { Store } from './store.js';
import { startValidatorCli } from './test-support/cli.js';
import { until } from './test-support/helpers.js';

describe('reveals survive a validator restart', () => {
  it('a validator killed before its reveal window reveals every commitment after a restart on the same database', async () => {
    await cryptoWaitReady();
    const db = join(mkdtempSync(join(tmpdir(), 'veracity-reveal-restart-')), 'v.db');
    const args = ['--reveal-every-rounds', '100000'];
    const first = await startValidatorCli(db, { args });
    const events: MinerEvent[] = [];
    const answered = new Set<string>();
    const miner = new NodeMiner({
      url: first.url,
      signer: new Keyring({ type: 'sr25519' }).addFromUri('//Bob'),
      netuid: 2,
      behaviour: 'random',
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'answered') answered.add(e.id);
      },
    });
    await miner.start();
    let second: Awaited<ReturnType<typeof startValidatorCli>> | undefined;
    let held = new Set<string>();
    try {
      await until(() => miner.audit.snapshot().committed >= 3, 60_000, 'three commitments at the miner');
      const exited = new Promise((ok) => first.child.once('exit', ok));
      first.child.kill('SIGKILL');
      await exited;
      const before = miner.audit.snapshot();
      expect(before.revealed).toBe(0);
      held = new Set(answered);

      second = await startValidatorCli(db, { port: first.port, args });
      await until(() => events.some((e) => e.type === 'reveal'), 60_000, 'a reveal after the restart');
      const reveal = events.find((e): e is Extract<MinerEvent, { type: 'reveal' }> => e.type === 'reveal')!;
      expect(reveal.window).toMatch(/-restored$/);
      // Every commitment the miner received before the kill is opened, with the label it was made with. An item the
      // validator logged but whose frames the kill cut off can only be one the miner never saw ('unknown' to it).
      expect(reveal.verified).toBe(before.committed);
      for (const id of reveal.mismatched) expect(held.has(id), `${id} was received and still mismatched`).toBe(false);
      expect([...held].filter((id) => !miner.revealed.has(id))).toEqual([]);
    } finally {
      miner.stop();
      if (second) {
        const gone = new Promise((ok) => second!.child.once('exit', ok));
        second.child.kill('SIGTERM');
        await gone;
      }
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    }
    // On disk: nothing the first run sent is left unrevealed (the second run revealed it, then closed cleanly).
    const store = new Store(db);
    try {
      expect(store.unrevealed(10_000).filter((r) => held.has(r.id))).toEqual([]);
    } finally {
      store.close();
    }
  }, 180_000);
});
