// The download verifier against the tiny fixture bundle served by a fake fetch (Node's own Response and streams): the
// committed digest, then loadBundle's checks (the schema, the size cap, the model's size and sha256), each refused with
// the extension's code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleDigest, MAX_BUNDLE_BYTES } from '@veracity/protocol/model-commitment';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FETCH_INIT, type DownloadProgress, downloadVerifiedBundle, type Fetcher } from './download.js';

const TINY = fileURLToPath(new URL('../../../../models/fixtures/tiny/', import.meta.url));
const manifestBytes = new Uint8Array(readFileSync(`${TINY}manifest.json`));
const modelBytes = new Uint8Array(readFileSync(`${TINY}model.onnx`));
const URL_ = 'https://miner.example/bundle/';

/** Serves `files` under URL_; records each request's init. */
function server(files: Record<string, Uint8Array | number>): { fetch: Fetcher; inits: RequestInit[]; urls: string[] } {
  const inits: RequestInit[] = [];
  const urls: string[] = [];
  return {
    inits,
    urls,
    fetch: (url, init) => {
      urls.push(url);
      inits.push(init);
      const name = url.slice(URL_.length);
      const body = files[name];
      if (body === undefined) return Promise.resolve(new Response('not found', { status: 404 }));
      // A number: a stream of that many bytes with no Content-Length (a server that keeps sending).
      if (typeof body === 'number') {
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent >= body) return c.close();
            sent += 65536;
            c.enqueue(new Uint8Array(65536));
          },
        });
        return Promise.resolve(new Response(stream));
      }
      return Promise.resolve(new Response(body as BufferSource));
    },
  };
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const tinyManifest = () =>
  JSON.parse(new TextDecoder().decode(manifestBytes)) as { model: { bytes: number; sha256: string }; video: unknown };

describe('downloading a published bundle', () => {
  it('verifies the committed digest, the manifest and each file, with progress, without credentials', async () => {
    const s = server({ 'manifest.json': manifestBytes, 'model.onnx': modelBytes });
    const progress: DownloadProgress[] = [];
    const b = await downloadVerifiedBundle(
      { sha256: bundleDigest(manifestBytes), url: URL_ },
      { fetch: s.fetch, onProgress: (p) => progress.push(p) },
    );
    expect(b.manifest.id).toBe('veracity-fixture-tiny');
    expect(b.model).toEqual(modelBytes);
    expect(b.manifestBytes).toEqual(manifestBytes);
    expect(s.urls).toEqual([`${URL_}manifest.json`, `${URL_}model.onnx`]);
    for (const init of s.inits) expect(init).toMatchObject({ ...BUNDLE_FETCH_INIT, credentials: 'omit' });
    const total = manifestBytes.length + modelBytes.length;
    expect(progress[0]!.stage).toBe('manifest');
    expect(progress.at(-1)).toMatchObject({ stage: 'verify', loaded: total, total });
    const loaded = progress.map((p) => p.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
  });

  it('a manifest other than the committed one (a tampered server) is E_BUNDLE_DIGEST, and nothing more is fetched', async () => {
    const tampered = json({ ...tinyManifest(), version: '9.9.9' });
    const s = server({ 'manifest.json': tampered, 'model.onnx': modelBytes });
    await expect(
      downloadVerifiedBundle({ sha256: bundleDigest(manifestBytes), url: URL_ }, { fetch: s.fetch }),
    ).rejects.toMatchObject({
      code: 'E_BUNDLE_DIGEST',
    });
    expect(s.urls).toEqual([`${URL_}manifest.json`]);
  });

  it('a manifest that fails the schema is E_BUNDLE_MANIFEST, even when committed', async () => {
    const bad = json({ ...tinyManifest(), video: { frames: 0 } });
    const s = server({ 'manifest.json': bad });
    await expect(downloadVerifiedBundle({ sha256: bundleDigest(bad), url: URL_ }, { fetch: s.fetch })).rejects.toMatchObject({
      code: 'E_BUNDLE_MANIFEST',
      message: expect.stringMatching(/video\.frames/),
    });
    const notJson = new TextEncoder().encode('{"schema": 1,');
    await expect(
      downloadVerifiedBundle({ sha256: bundleDigest(notJson), url: URL_ }, { fetch: server({ 'manifest.json': notJson }).fetch }),
    ).rejects.toMatchObject({ code: 'E_BUNDLE_MANIFEST' });
  });

  it('a bundle over MAX_BUNDLE_BYTES is refused before its download; a server sending more than declared is cut off', async () => {
    const big = json({ ...tinyManifest(), model: { ...tinyManifest().model, bytes: MAX_BUNDLE_BYTES } });
    const s = server({ 'manifest.json': big, 'model.onnx': modelBytes });
    await expect(downloadVerifiedBundle({ sha256: bundleDigest(big), url: URL_ }, { fetch: s.fetch })).rejects.toMatchObject({
      code: 'E_BUNDLE_TOO_LARGE',
    });
    expect(s.urls).toHaveLength(1);
    // The manifest says 7194 bytes; the server streams 50 MB: reading stops past the declared size.
    const endless = server({ 'manifest.json': manifestBytes, 'model.onnx': 50 * 1024 * 1024 });
    await expect(
      downloadVerifiedBundle({ sha256: bundleDigest(manifestBytes), url: URL_ }, { fetch: endless.fetch }),
    ).rejects.toMatchObject({ code: 'E_BUNDLE_TOO_LARGE' });
    // A manifest.json itself larger than the cap.
    const huge = server({ 'manifest.json': MAX_BUNDLE_BYTES + 65536 });
    await expect(downloadVerifiedBundle({ sha256: '00'.repeat(32), url: URL_ }, { fetch: huge.fetch })).rejects.toMatchObject({
      code: 'E_BUNDLE_TOO_LARGE',
    });
  });

  it("a model file whose sha256 or size is not the manifest's is E_BUNDLE_FILE_SHA256; HTTP errors E_BUNDLE_DOWNLOAD", async () => {
    const flipped = modelBytes.slice();
    flipped[100]! ^= 0xff;
    const sha = bundleDigest(manifestBytes);
    await expect(
      downloadVerifiedBundle(
        { sha256: sha, url: URL_ },
        { fetch: server({ 'manifest.json': manifestBytes, 'model.onnx': flipped }).fetch },
      ),
    ).rejects.toMatchObject({
      code: 'E_BUNDLE_FILE_SHA256',
      message: expect.stringMatching(/model\.onnx has sha256 [0-9a-f]{64}, the manifest says 86633c8a/),
    });
    await expect(
      downloadVerifiedBundle(
        { sha256: sha, url: URL_ },
        { fetch: server({ 'manifest.json': manifestBytes, 'model.onnx': modelBytes.slice(0, 100) }).fetch },
      ),
    ).rejects.toMatchObject({
      code: 'E_BUNDLE_FILE_SHA256',
      message: expect.stringMatching(/100 bytes, the manifest says 7194/),
    });
    await expect(
      downloadVerifiedBundle({ sha256: sha, url: URL_ }, { fetch: server({ 'manifest.json': manifestBytes }).fetch }),
    ).rejects.toMatchObject({
      code: 'E_BUNDLE_DOWNLOAD',
      message: expect.stringMatching(/model\.onnx answered HTTP 404/),
    });
    const down: Fetcher = () => Promise.reject(new TypeError('fetch failed'));
    await expect(downloadVerifiedBundle({ sha256: sha, url: URL_ }, { fetch: down })).rejects.toMatchObject({
      code: 'E_BUNDLE_DOWNLOAD',
    });
  });
});
