import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The miner client runs in a browser page and in Node: it must not reach for the DOM, Node, sockets or timers of its
// own (the clock and sockets come in as arguments), so the same code runs in both and in these tests.
describe('the miner client stays pure', () => {
  const dir = new URL('./', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it.each(sources)('%s imports only the protocol and its siblings, and touches no platform global', (file) => {
    const code = readFileSync(new URL(file, dir), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const imports = [...code.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    for (const spec of imports) expect(spec).toMatch(/^(\.\/|@veracity\/protocol$)/);
    expect(code).not.toMatch(/from ['"]node:|require\(|import\(/);
    expect(code).not.toMatch(
      /\b(window|document|navigator|localStorage|process|globalThis|Buffer)\.|new WebSocket\(|Date\.now\(|performance\.now\(|\beval\(|new Function\(/,
    );
    // Timers only through the injected clock (this.o.clock.setTimeout), never the global ones (the Clock interface
    // declares its own setTimeout(fn, ms), which this does not match: a call passes a function literal).
    expect(code).not.toMatch(/(?<![.\w])set(Timeout|Interval)\(\s*\(/);
  });
});
