import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The browser miner (a Web Worker) and the MV3 extension import this package: its runtime code must not reach for
// Node built-ins, Node globals, or code generation (CSP forbids eval/new Function in extension pages).
describe('runtime code stays portable', () => {
  const dir = new URL('./', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it.each(sources)('%s imports no node:* module and uses no Node-only global or eval', (file) => {
    const code = readFileSync(new URL(file, dir), 'utf8');
    expect(code).not.toMatch(/from ['"]node:|require\(|import\(['"]node:/);
    expect(code).not.toMatch(/\bBuffer\.|\bprocess\.|\beval\(|new Function\(/);
    const imports = [...code.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    // @noble/hashes: audited pure-JS hashing with no wasm, so the extension's chain reader stays small (model-commitment.ts).
    for (const spec of imports) expect(spec).toMatch(/^(\.\/|@polkadot\/(util|util-crypto)$|@noble\/hashes\/[a-z0-9]+$)/);
  });
});
