// Integration: crash-only durability. A real validator process (the veracity-validator CLI) with an honest miner and
// a silent one (which keeps every round open until its deadline: answers written only when a round closed were
// lost this way) is killed with SIGKILL at a random moment, 20 times on one database. After each kill every answer
// the validator had acknowledged must be in the database, and each restart must keep those of the runs before.
// "Acknowledged": the miner pings right after each answer; the pong proves the validator read the answer (a frame
// still in the kernel's socket buffer at the kill was never received, and no design can keep it).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type ChallengeMessage, encode, type Message, PROTOCOL_VERSION } from '@veracity/protocol';
import { describe, expect, it } from 'vitest';
import { Store } from './store.js';
import { startValidatorCli } from './test-support/cli.js';
import { RawMiner } from './test-support/raw-miner.js';

const KILLS = 20;

describe('a validator killed with SIGKILL at random moments', () => {
  it(`loses no acknowledged answer across ${KILLS} kills and restarts on one database`, async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519' });
    const miner = keyring.addFromUri('//Bob');
    const db = join(mkdtempSync(join(tmpdir(), 'veracity-crash-')), 'v.db');
    /** Answers the validator acknowledged: a pong to a ping sent right after the answer on the same socket. */
    const acked: string[] = [];
    let sent = 0;
    let seq = 0;
    let stored = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { child, url } = await startValidatorCli(db);
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      const m = await RawMiner.connect(url, { signer: miner });
      const silent = await RawMiner.connect(url, { signer: keyring.addFromUri('//Dave') });
      let alive = true;
      // The honest miner: answers every challenge at once, then pings; the pong means the answer was handled.
      const answering = (async () => {
        while (alive) {
          const c = await m.next((x: Message): x is ChallengeMessage => x.type === 'challenge', 60_000).catch(() => null);
          if (!c || !alive) return;
          m.send(encode({ v: PROTOCOL_VERSION, type: 'answer', id: c.id, probabilities: [0.25, 0.5, 0.25] }));
          sent++;
          const ok = await m
            .roundTrip(seq++, 60_000)
            .then(() => true)
            .catch(() => false);
          if (ok) acked.push(c.id);
        }
      })();
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 3000));
      child.kill('SIGKILL');
      await exited;
      alive = false;
      m.close();
      silent.close();
      await answering;
      const store = new Store(db);
      try {
        expect(store.integrityOk()).toBe(true);
        const have = new Set(
          (
            store.db
              .prepare(`SELECT challenge_id AS id FROM answers WHERE hotkey = ? AND outcome = 'ok'`)
              .all(miner.address) as Array<{
              id: string;
            }>
          ).map((r) => r.id),
        );
        const lost = acked.filter((id) => !have.has(id));
        expect(lost, `after kill ${kill + 1}`).toEqual([]);
        stored = have.size;
      } finally {
        store.close();
      }
    }
    // Enough answers to mean something: most runs answered several challenges before their kill.
    expect(acked.length).toBeGreaterThanOrEqual(KILLS);
    process.stderr.write(
      `crash test: ${KILLS} kills, ${sent} answers sent, ${acked.length} acknowledged, ${stored} stored, 0 acknowledged lost\n`,
    );
  }, 600_000);
});
