// The purity rule of the miner client and of the web miner's core, defined once (test support, not shipped): code
// that runs in a page and in Node takes the DOM, Node, sockets and timers as arguments and never reaches for them.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** One test per non-test source file in `dir`: imports only siblings and `allowed`, and touches no platform global. */
export function describePure(title: string, dir: URL, allowed: RegExp): void {
  describe(title, () => {
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

    it.each(sources)('%s imports only its siblings and the protocol, and touches no platform global', (file) => {
      const code = readFileSync(new URL(file, dir), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const [, spec] of code.matchAll(/from '([^']+)'/g)) expect(spec).toMatch(new RegExp(`^\\./|${allowed.source}`));
      expect(code).not.toMatch(/from ['"]node:|require\(|import\(/);
      expect(code).not.toMatch(
        /\b(window|document|navigator|localStorage|process|globalThis|Buffer)\.|new WebSocket\(|Date\.now\(|performance\.now\(|\beval\(|new Function\(/,
      );
      // Timers only through an injected clock (this.o.clock.setTimeout), never the global ones (a Clock interface may
      // declare its own setTimeout(fn, ms), which this does not match: a call passes a function literal).
      expect(code).not.toMatch(/(?<![.\w])set(Timeout|Interval)\(\s*\(/);
    });
  });
}
