// `npm run package -w extension` end to end: the real build, zipped, read back.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { storeProblems } from './store.js';
import { readZip } from './zip.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'veracity-zip-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run package -w extension', () => {
  it('writes a store-ready zip named and versioned from the root package.json', { timeout: 240_000 }, async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const { stdout } = await run('npm', ['run', '--silent', 'package', '-w', 'extension', '--', '--out', out], {
      cwd: ROOT,
      timeout: 220_000,
    });
    const path = join(out, `veracity-extension-${version}.zip`);
    expect(stdout).toContain(`${path}: version ${version}`);
    const files = readZip(readFileSync(path));
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Record<string, unknown>;
    expect(manifest.version).toBe(version);
    expect(manifest.web_accessible_resources).toBeUndefined();
    // ONNX Runtime's one wasm binary and the model ship inside; no source maps; no remote code.
    expect(files.get('ort/ort-wasm-simd-threaded.jsep.wasm')!.subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(files.has('bundle/model.onnx')).toBe(true);
    expect([...files.keys()].filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(storeProblems(files, version)).toEqual([]);
    // The content script is one classic script: nothing for it to import(), so nothing needs to be web-accessible.
    const content = (manifest.content_scripts as Array<{ js: string[] }>)[0]!.js;
    expect(content).toHaveLength(1);
    expect(files.get(content[0]!)!.toString('utf8')).not.toMatch(/\bimport\s*\(|^import /m);
  });
});
