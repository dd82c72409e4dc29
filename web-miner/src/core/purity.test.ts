import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The core holds the miner's decisions and is tested in Node; it must not reach for the DOM, Node or timers of its
// own (the clock and sockets come in as arguments), so the same code runs in the page and in these tests.
describe('web-miner core stays pure', () => {
  const dir = new URL('./', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it.each(sources)('%s imports only the protocol and its siblings, and touches no platform global', (file) => {
    const code = readFileSync(new URL(file, dir), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const imports = [...code.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    for (const spec of imports) expect(spec).toMatch(/^(\.\/|@veracity\/protocol$)/);
    expect(code).not.toMatch(/\b(window|document|navigator|localStorage|process|globalThis)\.|new WebSocket\(|Date\.now\(/);
    // Timers only through the injected clock (this.o.clock.setTimeout), never the global ones.
    expect(code).not.toMatch(/(?<![.\w])set(Timeout|Interval)\(\s*\(/);
  });
});
