import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic, type Served } from './static-files.js';

// Raw requests: fetch() normalises `..` out of URLs, which would hide the traversal case.
function get(
  url: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('serveStatic', () => {
  let root: string;
  let served: Served;
  let isolated: Served;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'veracity-static-'));
    mkdirSync(join(root, 'site', 'sub'), { recursive: true });
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'site', 'index.html'), '<h1>home</h1>');
    writeFileSync(join(root, 'site', 'sub', 'index.html'), '<h1>sub</h1>');
    writeFileSync(join(root, 'site', 'app.wasm'), 'wasm');
    writeFileSync(join(root, 'other', 'x.json'), '{"x":1}');
    writeFileSync(join(root, 'secret.txt'), 'do not serve');
    served = await serveStatic({ '/': join(root, 'site'), '/extra/': join(root, 'other') });
    isolated = await serveStatic({ '/': join(root, 'site') }, { isolate: true });
  });
  afterAll(async () => {
    await served.close();
    await isolated.close();
  });

  it('serves files with their types, index.html for folders, and the longest mount first', async () => {
    const home = await get(served.url, '/');
    expect(home).toMatchObject({ status: 200, body: '<h1>home</h1>' });
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await get(served.url, '/sub/')).body).toBe('<h1>sub</h1>');
    expect((await get(served.url, '/app.wasm')).headers['content-type']).toBe('application/wasm');
    const json = await get(served.url, '/extra/x.json');
    expect(json).toMatchObject({ status: 200, body: '{"x":1}' });
  });

  it('refuses paths that climb out of the mount and answers 404 / 405 / 400 plainly', async () => {
    // The URL parser already folds `..` segments; an encoded slash survives it and must be caught by the mount check.
    expect((await get(served.url, '/../secret.txt')).body).not.toContain('do not serve');
    expect((await get(served.url, '/..%2fsecret.txt')).status).toBe(403);
    expect((await get(served.url, '/missing.js')).status).toBe(404);
    expect((await get(served.url, '/extra/favicon.ico')).status).toBe(404);
    expect((await get(served.url, '/', 'POST')).status).toBe(405);
    expect((await get(served.url, '/%E0%A4%A')).status).toBe(400);
  });

  it('answers HEAD without a body and sends COOP/COEP only when asked', async () => {
    const head = await get(served.url, '/app.wasm', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('4');
    expect(head.headers['cross-origin-opener-policy']).toBeUndefined();
    const iso = await get(isolated.url, '/');
    expect(iso.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(iso.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it('answers /favicon.ico with a 16x16 icon when the folder has none', async () => {
    const ico = await new Promise<{ status: number; type: unknown; body: Buffer }>((ok, fail) => {
      const { hostname, port } = new URL(served.url);
      request({ hostname, port, path: '/favicon.ico' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      })
        .on('error', fail)
        .end();
    });
    expect(ico.status).toBe(200);
    expect(ico.type).toBe('image/x-icon');
    // ICONDIR (type 1, one image), a 16x16 32-bit entry whose data fills the rest of the file.
    expect([ico.body.readUInt16LE(2), ico.body.readUInt16LE(4), ico.body[6], ico.body[7], ico.body.readUInt16LE(12)]).toEqual([
      1, 1, 16, 16, 32,
    ]);
    expect(ico.body.readUInt32LE(18) + ico.body.readUInt32LE(14)).toBe(ico.body.length);
    // A folder's own favicon wins over the built-in one.
    writeFileSync(join(root, 'site', 'favicon.ico'), 'mine');
    expect((await get(served.url, '/favicon.ico')).body).toBe('mine');
  });
});
