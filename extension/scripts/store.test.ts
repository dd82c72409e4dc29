import { describe, expect, it } from 'vitest';
import { chromeVersion, REQUIRED_FILES, storeProblems } from './store.js';
import { readZip, writeZip } from './zip.js';

const manifest = {
  manifest_version: 3,
  version: '0.3.1',
  background: { service_worker: 'sw.js' },
  content_scripts: [{ js: ['content.js'] }],
  action: { default_popup: 'popup.html' },
  icons: { 16: 'icons/icon-16.png' },
  content_security_policy: { extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'" },
};

function pkg(overrides: Record<string, string | null> = {}, m: object = manifest): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const f of [...REQUIRED_FILES, 'sw.js', 'content.js', 'popup.html']) files.set(f, Buffer.from('x'));
  files.set('manifest.json', Buffer.from(JSON.stringify(m)));
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) files.delete(k);
    else files.set(k, Buffer.from(v));
  }
  return files;
}

describe('chromeVersion', () => {
  it('takes x.y.z as is and moves a pre-release tag to version_name', () => {
    expect(chromeVersion('0.1.0')).toEqual({ version: '0.1.0' });
    expect(chromeVersion('1.2.0-beta.1')).toEqual({ version: '1.2.0', version_name: '1.2.0-beta.1' });
    expect(() => chromeVersion('1.2')).toThrow(/not x.y.z/);
  });
});

describe('storeProblems', () => {
  it('passes a complete package', () => {
    expect(storeProblems(pkg(), '0.3.1')).toEqual([]);
  });
  it('names what is wrong: version, missing wasm, source maps, remote code, web-accessible files', () => {
    expect(storeProblems(pkg(), '0.4.0')).toEqual(['manifest version 0.3.1, expected 0.4.0']);
    expect(storeProblems(pkg({ 'ort/ort-wasm-simd-threaded.jsep.wasm': null }), '0.3.1')).toEqual([
      'ort/ort-wasm-simd-threaded.jsep.wasm is missing',
    ]);
    expect(storeProblems(pkg({ 'sw.js.map': '{}' }), '0.3.1')).toEqual(['sw.js.map: source maps are not shipped']);
    expect(storeProblems(pkg({ 'sw.js': 'x\n//# sourceMappingURL=sw.js.map' }), '0.3.1')[0]).toMatch(/source map/);
    expect(storeProblems(pkg({ 'popup.html': '<script src="https://cdn.example/x.js"></script>' }), '0.3.1')[0]).toMatch(
      /popup.html loads remote code/,
    );
    expect(storeProblems(pkg({ 'sw.js': 'await import("https://cdn.example/x.js")' }), '0.3.1')[0]).toMatch(/remote code/);
    expect(storeProblems(pkg({ 'content.js': null }), '0.3.1')).toEqual([
      'manifest names content.js, which is not in the package',
    ]);
    expect(storeProblems(pkg({}, { ...manifest, web_accessible_resources: [] }), '0.3.1')[0]).toMatch(/probe/);
  });
});

describe('zip', () => {
  it('round-trips names and bytes, deflated or stored, and gives the same bytes for the same files', () => {
    const files = new Map<string, Uint8Array>([
      ['b/readme.txt', Buffer.from('hello '.repeat(100))],
      ['a.bin', new Uint8Array([0, 255, 7])],
      ['ünïcode.json', Buffer.from('{}')],
    ]);
    const zip = writeZip(files);
    const back = readZip(zip);
    expect([...back.keys()]).toEqual(['a.bin', 'b/readme.txt', 'ünïcode.json']);
    for (const [k, v] of files) expect(Buffer.compare(back.get(k)!, Buffer.from(v))).toBe(0);
    expect(Buffer.compare(writeZip(files), zip)).toBe(0);
    expect(() => readZip(Buffer.from('nope'))).toThrow(/not a zip/);
  });
});
