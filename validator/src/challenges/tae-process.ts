/**
 * The child process of TaeRunner (tae.ts): loads each family's session on first use and answers round-trip
 * requests one at a time over IPC. Exits when the validator goes (its IPC channel closes).
 */
import { readFile } from 'node:fs/promises';
import { createPixelMapSession, type PixelMapSession } from '@veracity/models/node';
import type { TaeProcessInit, TaeReply, TaeRequest } from './tae.js';

const init = JSON.parse(process.argv[2] ?? '{}') as TaeProcessInit;
const sessions = new Map<string, Promise<PixelMapSession>>();

function session(family: string): Promise<PixelMapSession> {
  let s = sessions.get(family);
  if (!s) {
    const entry = init.models.families.find((f) => f.family === family);
    if (!entry) return Promise.reject(new Error(`no family ${family}`));
    s = readFile(entry.path).then((model) =>
      createPixelMapSession(model, { threads: init.threads, inputName: init.models.input, outputName: init.models.output }),
    );
    sessions.set(family, s);
    s.catch(() => sessions.delete(family));
  }
  return s;
}

// Requests run one after another: the validator keeps at most a few in flight, and one at a time bounds memory.
let queue = Promise.resolve();
process.on('message', (req: TaeRequest) => {
  queue = queue.then(async () => {
    let reply: TaeReply;
    try {
      const s = await session(req.family);
      const t0 = performance.now();
      const rgb = await s.run(req.rgb, req.width, req.height);
      reply = { id: req.id, rgb, seconds: (performance.now() - t0) / 1000 };
    } catch (e) {
      reply = { id: req.id, error: e instanceof Error ? e.message : String(e) };
    }
    process.send?.(reply);
  });
});
process.on('disconnect', () => process.exit(0));
