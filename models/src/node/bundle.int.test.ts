// Integration: loading a bundle by URL from a real HTTP server (node:http on port 0) serving models/fixtures/tiny,
// and copies of it broken one way each. What a miner or the extension does with a URL someone published: the
// manifest first, within the cap; then the model it names, checked against the manifest's size and sha256.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadProgress, loadBundle, MAX_MANIFEST_BYTES, urlBundleSource } from '../core/bundle.js';
import { dirBundleSource } from './index.js';

const TINY = new URL('../../fixtures/tiny/', import.meta.url);
const manifestBytes = readFileSync(new URL('manifest.json', TINY));
const model = readFileSync(new URL('model.onnx', TINY));
const manifest = JSON.parse(manifestBytes.toString('utf8')) as { model: { bytes: number } };

/** Each folder the server serves: file name -> bytes. */
const FOLDERS: Record<string, Record<string, Uint8Array>> = {
  tiny: { 'manifest.json': manifestBytes, 'model.onnx': model },
  // One flipped byte in the model, same size: only the sha256 can tell.
  tampered: { 'manifest.json': manifestBytes, 'model.onnx': Uint8Array.from(model, (b, i) => (i === 100 ? b ^ 1 : b)) },
  // A manifest that declares a 20 MB model: refused before the model is asked for.
  huge: {
    'manifest.json': Buffer.from(JSON.stringify({ ...manifest, model: { ...manifest.model, bytes: 20_000_000 } })),
    'model.onnx': model,
  },
  schema: { 'manifest.json': Buffer.from(JSON.stringify({ ...manifest, schema: 2, input: 'x' })), 'model.onnx': model },
  'not-json': { 'manifest.json': Buffer.from('<html>not found</html>'), 'model.onnx': model },
  'fat-manifest': { 'manifest.json': Buffer.alloc(MAX_MANIFEST_BYTES + 10, 0x20), 'model.onnx': model },
  'no-model': { 'manifest.json': manifestBytes },
};

let server: Server;
let base = '';
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requested.push(req.url ?? '');
    const [, folder, file] = /^\/([^/]+)\/([^/?]+)$/.exec(req.url ?? '') ?? [];
    const body = folder && file ? FOLDERS[folder]?.[file] : undefined;
    if (!body) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    // The fat manifest comes chunked, with no Content-Length to refuse it by: the reader must stop at the cap.
    if (folder === 'fat-manifest') {
      res.write(body.subarray(0, body.length >> 1));
      return void setTimeout(() => res.end(body.subarray(body.length >> 1)), 10);
    }
    res.end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const load = (folder: string, maxBytes?: number) =>
  loadBundle(urlBundleSource(`${base}${folder}`), () => {}, maxBytes === undefined ? {} : { maxBytes });

describe('loading a bundle by URL', () => {
  it('fetches the manifest, then the model it names, verified, keeping the manifest bytes as served', async () => {
    const progress: LoadProgress[] = [];
    const bundle = await loadBundle(urlBundleSource(`${base}tiny`), (p) => progress.push(p), { maxBytes: 10 << 20 });
    // The exact bytes: the bundle's id is their sha256, so a re-serialised manifest would be another bundle.
    expect(Buffer.from(bundle.manifestBytes).equals(manifestBytes)).toBe(true);
    expect(Buffer.from(bundle.model).equals(model)).toBe(true);
    expect(progress.map((p) => p.stage)).toEqual(expect.arrayContaining(['manifest', 'download', 'verify']));
    expect(progress.filter((p) => p.stage === 'download').at(-1)).toMatchObject({ loaded: model.length, total: model.length });
  });

  it('refuses a model whose sha256 is not the manifest’s (E_SHA256_MISMATCH)', async () => {
    await expect(load('tampered')).rejects.toMatchObject({
      code: 'E_SHA256_MISMATCH',
      message: expect.stringMatching(/refusing a model that is not the one published/),
    });
  });

  it('refuses a bundle over the cap from its manifest alone, without downloading the model (E_BUNDLE_TOO_LARGE)', async () => {
    requested.length = 0;
    await expect(load('huge', 10 << 20)).rejects.toMatchObject({
      code: 'E_BUNDLE_TOO_LARGE',
      message: expect.stringMatching(/is 20000\d+ bytes or more; at most 10485760 bytes are accepted \(10 MiB\)/),
    });
    expect(requested).toEqual(['/huge/manifest.json']);
    // The tiny bundle against a cap smaller than it: the same refusal, the same single request.
    await expect(load('tiny', 4096)).rejects.toMatchObject({ code: 'E_BUNDLE_TOO_LARGE' });
  });

  it('refuses an oversized manifest without reading it all, whatever the cap', async () => {
    await expect(load('fat-manifest')).rejects.toMatchObject({ code: 'E_BUNDLE_TOO_LARGE' });
  });

  it('refuses a manifest that is not JSON or breaks the schema (E_MANIFEST_INVALID), naming where', async () => {
    await expect(load('not-json')).rejects.toMatchObject({
      code: 'E_MANIFEST_INVALID',
      message: expect.stringContaining(`manifest.json at ${base}not-json/ is not UTF-8 JSON`),
    });
    await expect(load('schema')).rejects.toMatchObject({
      code: 'E_MANIFEST_INVALID',
      message: expect.stringMatching(/schema must be 1; .*input must be an object/),
    });
  });

  it('a missing file or server is E_BUNDLE_FETCH', async () => {
    await expect(load('no-model')).rejects.toMatchObject({ code: 'E_BUNDLE_FETCH', message: expect.stringMatching(/HTTP 404/) });
    await expect(load('nothing-here')).rejects.toMatchObject({ code: 'E_BUNDLE_FETCH' });
  });

  it('a folder gets the same checks and keeps the same manifest bytes', async () => {
    const bundle = await loadBundle(dirBundleSource(TINY.pathname), () => {}, { maxBytes: 10 << 20 });
    expect(Buffer.from(bundle.manifestBytes).equals(manifestBytes)).toBe(true);
    await expect(loadBundle(dirBundleSource(TINY.pathname), () => {}, { maxBytes: 4096 })).rejects.toMatchObject({
      code: 'E_BUNDLE_TOO_LARGE',
    });
  });
});
