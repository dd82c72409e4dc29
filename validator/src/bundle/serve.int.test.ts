// Integration: the read-only bundle server (veracity-bundle serve) over real sockets, and publish's URL check
// against it: only manifest.json and the files it names, CORS *, exact content-length; a URL serving another bundle or
// nothing is refused before anything goes on chain.
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIRS } from '../test-support/published-subnet.js';
import { PublishError, prepareBundle, verifyBundleUrl } from './publish.js';
import { serveBundles, type ServedBundles } from './serve.js';

let served: ServedBundles;
beforeAll(async () => {
  served = await serveBundles({ '/detector/': BUNDLE_DIRS.detector, tiny: BUNDLE_DIRS.tiny });
});
afterAll(() => served?.close());

const url = (path: string) => new URL(path, served.url).href;

describe('the bundle server', () => {
  it('serves manifest.json and the model it names, byte for byte, with CORS * and content-length', async () => {
    for (const [name, dir] of Object.entries(BUNDLE_DIRS)) {
      for (const file of ['manifest.json', 'model.onnx']) {
        const res = await fetch(url(`${name}/${file}`));
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        const want = readFileSync(join(dir, file));
        expect(Number(res.headers.get('content-length'))).toBe(want.length);
        expect(Buffer.from(await res.arrayBuffer()).equals(want)).toBe(true);
      }
    }
    expect(served.bundles.map((b) => b.url)).toEqual([url('detector/'), url('tiny/')]);
  });

  it('serves nothing else: files in the folder the manifest does not name, folders, traversal, other methods', async () => {
    for (const path of ['tiny/parity.json', 'tiny/', 'tiny', '', 'other/manifest.json']) {
      const res = await fetch(url(path));
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      await res.arrayBuffer();
    }
    // Sent as written (fetch would resolve the dots itself): out of the folder, or to an unnamed file, is refused.
    for (const path of ['/tiny/../../package.json', '/tiny/%2e%2e/detector/parity.json', '/tiny/..%2f..%2fpackage.json']) {
      const status = await new Promise<number>((ok, fail) =>
        get({ host: '127.0.0.1', port: served.port, path }, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        }).on('error', fail),
      );
      expect(status, path).toBeGreaterThanOrEqual(400);
    }
    const post = await fetch(url('tiny/manifest.json'), { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
  });
});

describe("publish's URL check", () => {
  const sha = (name: keyof typeof BUNDLE_DIRS) => served.bundles.find((b) => b.prefix === `/${name}/`)!.sha256;

  it('accepts a URL that serves this very bundle', async () => {
    await verifyBundleUrl(url('tiny/'), sha('tiny'));
    await verifyBundleUrl(url('tiny'), sha('tiny')); // with or without the trailing slash
    const p = await prepareBundle({ dir: BUNDLE_DIRS.tiny, url: url('tiny/'), inference: false });
    expect(p.commitment).toEqual({ sha256: sha('tiny'), version: '0.0.1', url: url('tiny/') });
  });

  it('E_URL_MISMATCH: the URL serves another bundle', async () => {
    const e = await prepareBundle({ dir: BUNDLE_DIRS.tiny, url: url('detector/'), inference: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PublishError);
    expect(e).toMatchObject({
      code: 'E_URL_MISMATCH',
      problem: expect.stringContaining(`serves a manifest with sha256 ${sha('detector')}, not this bundle's ${sha('tiny')}`),
    });
  });

  it('E_URL_UNREACHABLE: nothing, or an HTTP error, at the URL; --no-check-url skips the check', async () => {
    const e = await verifyBundleUrl(url('missing/'), sha('tiny')).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'E_URL_UNREACHABLE', problem: expect.stringMatching(/HTTP 404/) });
    const closed = await serveBundles({ '/': BUNDLE_DIRS.tiny });
    const gone = closed.url;
    await closed.close();
    const e2 = await verifyBundleUrl(gone, sha('tiny')).catch((x: unknown) => x);
    expect(e2).toMatchObject({ code: 'E_URL_UNREACHABLE', fix: expect.stringMatching(/--no-check-url/) });
    await expect(prepareBundle({ dir: BUNDLE_DIRS.tiny, url: gone, inference: false, checkUrl: false })).resolves.toBeTruthy();
  });

  it('E_BAD_URL: a URL the chain cannot hold', async () => {
    for (const bad of ['ftp://example.org/b/', 'not a url', `https://example.org/${'x'.repeat(130)}/`]) {
      const e = await prepareBundle({ dir: BUNDLE_DIRS.tiny, url: bad, inference: false }).catch((x: unknown) => x);
      expect(e, bad).toMatchObject({ code: 'E_BAD_URL' });
    }
  });
});
