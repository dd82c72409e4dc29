// Child process for store.int.test.ts: writes rounds of ROUND answers, one transaction each, until it is killed.
import { Store } from '../store.js';

const [path, round] = process.argv.slice(2) as [string, string];
const store = new Store(path);
const size = Number(round);
for (let r = 0; ; r++) {
  store.recordAnswers(
    Array.from({ length: size }, (_, i) => ({
      hotkey: `miner-${i}`,
      challengeId: `c-${r}`,
      modality: 'image' as const,
      truth: (r % 2) as 0 | 1,
      ai: (i % 10) / 10,
      outcome: 'ok' as const,
      latencyMs: 12,
      at: Date.now(),
    })),
  );
  if (r === 0) process.stdout.write('writing\n');
}
