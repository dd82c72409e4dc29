import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DATASET } from './helpers.js';

const BIN = join(import.meta.dirname, '../../bin/veracity-validator.mjs');

/**
 * The veracity-validator CLI as a child process on `db` (images only, rounds back to back, 3 s deadline), on `port`
 * (0: a free one); resolves with its miner URL once it listens. `args` add or override flags.
 */
export async function startValidatorCli(
  db: string,
  o: { port?: number; args?: string[] } = {},
): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      ...['--dataset', DATASET, '--db', db, '--port', String(o.port ?? 0), '--round-interval-ms', '0'],
      ...['--timeout-ms', '3000', '--video-share', '0', ...(o.args ?? [])],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines = createInterface({ input: child.stderr! });
  const url = await new Promise<string>((ok, fail) => {
    const t = setTimeout(() => fail(new Error('the validator did not start in 60 s')), 60_000);
    lines.on('line', (line) => {
      const m = /"msg":"validator listening","url":"([^"]+)"/.exec(line);
      if (m) {
        clearTimeout(t);
        ok(m[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`the validator exited with ${code} before listening`)));
  });
  return { child, url, port: Number(new URL(url).port) };
}
