/**
 * The extension under test: built once per process into extension/dist, loaded unpacked into Debian's Chromium
 * (persistent context, the only way Chromium loads extensions), plus the test pages it browses, served from two
 * origins so same-origin (canvas) and cross-origin (extension fetch, tab capture) paths both run.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, expect, type Page, type Request, type Worker } from '@playwright/test';
import type { BadgeInfo } from '../../extension/src/core/messages.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser.js';
import { DATASET_DIR } from './images.js';
import { type Served, serveStatic } from './static-server.js';

const run = promisify(execFile);
export const EXTENSION_ROOT = fileURLToPath(new URL('../../extension/', import.meta.url));
export const EXTENSION_DIST = join(EXTENSION_ROOT, 'dist');

let built: Promise<string> | null = null;

/** `vite build` of the extension, once per process (specs and the benchmark share it). */
export function buildExtension(): Promise<string> {
  built ??= (async () => {
    await run(process.execPath, [fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url)), 'build'], {
      cwd: EXTENSION_ROOT,
      timeout: 180_000,
    });
    for (const f of ['manifest.json', 'bundle/model.onnx', 'ort/ort-wasm-simd-threaded.jsep.wasm', 'icons/icon-128.png']) {
      if (!existsSync(join(EXTENSION_DIST, f))) throw new Error(`extension build lacks ${f}`);
    }
    return EXTENSION_DIST;
  })();
  return built;
}

export interface Launched {
  context: BrowserContext;
  extensionId: string;
  worker: Worker;
  /** Every request the browser made (pages, extension, service worker), in order. */
  requests: Request[];
  close(): Promise<void>;
}

/** Chromium with the built extension loaded unpacked, on `userDataDir` (reuse it to test a relaunch). */
export async function launchWithExtension(userDataDir: string, options: { proxy?: RecordingProxy } = {}): Promise<Launched> {
  const dist = await buildExtension();
  // Through the proxy, loopback included (<-loopback>), so every request of every context of the browser is seen.
  const proxy = options.proxy ? [`--proxy-server=${options.proxy.url}`, '--proxy-bypass-list=<-loopback>'] : [];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [...CHROMIUM_ARGS, ...proxy, `--disable-extensions-except=${dist}`, `--load-extension=${dist}`],
    viewport: { width: 1200, height: 900 },
  });
  const requests: Request[] = [];
  context.on('request', (r) => requests.push(r));
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  const extensionId = new URL(worker.url()).host;
  return { context, extensionId, worker, requests, close: () => context.close() };
}

export interface TestFile {
  /** Path inside the dataset (manifest.csv's `path`). */
  rel: string;
  label: 'real' | 'synthetic' | 'semisynthetic';
  /** Name it is served under. */
  name: string;
}

/** Known real and AI images from the labelled set: two groups of each kind, two files per group. */
export function pickImages(): TestFile[] {
  const rows = readFileSync(join(DATASET_DIR, 'manifest.csv'), 'utf8').trim().split('\n').slice(1);
  const want = ['faces-ffhq', 'photos-bsds500', 'faces-stylegan', 'midjourney-v7'];
  const out: TestFile[] = [];
  for (const group of want) {
    const mine = rows.map((r) => r.split(',')).filter((c) => c[3] === group && c[2] === 'image');
    for (const c of mine.slice(0, 2)) {
      out.push({ rel: c[0]!, label: c[1] as TestFile['label'], name: `${group}-${basename(c[0]!)}`.replace(/[^\w.-]/g, '_') });
    }
  }
  if (out.length < 8) throw new Error(`dataset at ${DATASET_DIR} lacks the groups ${want.join(', ')}`);
  return out;
}

export interface Site {
  a: Served;
  b: Served;
  dir: string;
  images: TestFile[];
  /** Paths requested from each server, to prove nothing but media fetches reached them. */
  log: string[];
  close(): Promise<void>;
}

/** A tiny SVG, a 32 px icon and a 1x1 tracking pixel: things the extension must not badge. */
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="#4a8"/></svg>';

/**
 * Writes the test pages and media into a temp folder and serves it on two origins (two ports). Pages live on A;
 * half of the images and one video are loaded from B (cross-origin).
 */
export async function serveTestSite(options: { video?: string; manyCount?: number } = {}): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-ext-'));
  const media = join(dir, 'media');
  mkdirSync(media);
  const images = pickImages();
  for (const img of images) copyFileSync(join(DATASET_DIR, img.rel), join(media, img.name));
  writeFileSync(join(media, 'logo.svg'), SVG);
  if (options.video) copyFileSync(options.video, join(media, 'clip.webm'));

  const a = await serveStatic({ '/': dir });
  const b = await serveStatic({ '/': dir });
  const src = (i: number, img: TestFile) => `${i % 2 === 0 ? '' : b.url.slice(0, -1)}/media/${img.name}`;
  const figure = (i: number, img: TestFile) =>
    `<figure><img id="img-${i}" src="${src(i, img)}" width="256" height="256" alt="${img.label}" data-file="${img.name}"><figcaption>${img.name}</figcaption></figure>`;
  const css = 'body{font:14px sans-serif;margin:16px} figure{display:inline-block;margin:6px} img{object-fit:cover}';
  writeFileSync(
    join(dir, 'images.html'),
    `<!doctype html><meta charset="utf-8"><title>Veracity test page</title><style>${css}</style>
<h1>Images (same-origin and cross-origin)</h1>
${images
  .slice(0, 6)
  .map((img, i) => figure(i, img))
  .join('\n')}
<picture id="pic"><source srcset="${b.url}media/${images[6]!.name}" type="image/jpeg"><img id="img-pic" src="/media/logo.svg" width="256" height="256" alt="picture" data-file="${images[6]!.name}"></picture>
<p>Not badged: an SVG, an icon, a tracking pixel.</p>
<img id="svg" src="/media/logo.svg" width="200" height="200"><img id="icon" src="/media/${images[0]!.name}" width="32" height="32"><img id="pixel" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" width="1" height="1">
<div style="height:2400px"></div>
<img id="img-lazy" loading="lazy" src="${b.url}media/${images[7]!.name}" width="256" height="256" alt="lazy" data-file="${images[7]!.name}">
<script>
  // A blob: image (only the page can read it: the content script goes through a canvas).
  fetch('/media/${images[2]!.name}').then((r) => r.blob()).then((b) => {
    const i = document.createElement('img');
    Object.assign(i, { id: 'img-blob', width: 256, height: 256, src: URL.createObjectURL(b) });
    i.dataset.file = '${images[2]!.name}';
    document.body.insertBefore(i, document.querySelector('p'));
  });
  // Infinite scroll: an image added after load, when the page asks for it.
  window.addLater = () => { const f = document.createElement('figure'); f.innerHTML = '<img id="img-late" src="/media/${images[3]!.name}" width="256" height="256" data-file="${images[3]!.name}">'; document.body.insertBefore(f, document.body.children[1]); };
</script>`,
  );
  const n = options.manyCount ?? 200;
  writeFileSync(
    join(dir, 'many.html'),
    `<!doctype html><meta charset="utf-8"><title>many</title><style>img{width:160px;height:160px;object-fit:cover;margin:2px}</style>
${Array.from({ length: n }, (_, i) => {
  const img = images[i % images.length]!;
  // Distinct URLs (query string) so every one is scored, not served from the cache.
  return `<img src="${i % 2 ? b.url : '/'}media/${img.name}?n=${i}" data-file="${img.name}">`;
}).join('\n')}`,
  );
  // Every image on screen at once (96 px tiles in a wide viewport), so "all badges" needs no scrolling.
  writeFileSync(
    join(dir, 'grid.html'),
    `<!doctype html><meta charset="utf-8"><title>grid</title><style>body{margin:4px}img{width:96px;height:96px;object-fit:cover;margin:1px}</style>
<script>
  const q = new URLSearchParams(location.search);
  const n = Number(q.get('n') || 100), run = q.get('run') || '0', files = ${JSON.stringify(images.map((i) => i.name))};
  for (let i = 0; i < n; i++) {
    const img = document.createElement('img');
    img.src = (i % 2 ? '${b.url}' : '/') + 'media/' + files[i % files.length] + '?run=' + run + '&n=' + i;
    document.write(img.outerHTML);
  }
</script>`,
  );
  writeFileSync(
    join(dir, 'one.html'),
    `<!doctype html><meta charset="utf-8"><title>one</title><img id="one" src="${b.url}media/${images[4]!.name}" width="256" height="256">`,
  );
  if (options.video) {
    writeFileSync(
      join(dir, 'video.html'),
      `<!doctype html><meta charset="utf-8"><title>video</title><style>video{width:320px;height:240px;display:block;margin:8px;background:#000}</style>
<h1>Video</h1>
<video id="same" src="/media/clip.webm" muted playsinline preload="auto"></video>
<video id="cross" src="${b.url}media/clip.webm" muted playsinline preload="auto"></video>`,
    );
  }
  const log: string[] = [];
  for (const s of [a, b]) log.push(`listening ${s.url}`);
  return {
    a,
    b,
    dir,
    images,
    log,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

/** A short, small WebM (VP8) clip made from a dataset video with ffmpeg: plays in any Chromium build. */
export async function makeTestClip(sourceRel: string, outDir: string): Promise<string> {
  const out = join(outDir, 'clip.webm');
  await run(
    process.env.VERACITY_FFMPEG ?? 'ffmpeg',
    [
      '-y',
      '-loglevel',
      'error',
      '-i',
      join(DATASET_DIR, sourceRel),
      '-t',
      '4',
      '-vf',
      'scale=320:-2',
      '-an',
      '-c:v',
      'libvpx',
      '-b:v',
      '600k',
      out,
    ],
    { timeout: 120_000 },
  );
  return out;
}

/** The extension's service worker in a browser context (a fresh one after Chrome restarted it). */
export function extensionWorker(context: BrowserContext): Worker {
  const workers = context.serviceWorkers().filter((w) => w.url().startsWith('chrome-extension://'));
  const worker = workers[workers.length - 1];
  if (!worker) throw new Error('the extension has no service worker in this context');
  return worker;
}

/** A badge as the extension knows it (see BadgeInfo in extension/src/core/messages.ts). */
export type Badge = BadgeInfo & { ai: number; probs: number[]; backend: string };

/**
 * The badges on a page, read the way only the extension can: the page cannot (closed shadow roots, no attributes),
 * so the service worker asks the tab's content script, which holds the roots. Badges without a score (tone
 * 'needs-login') come with ai NaN and no probabilities.
 */
export async function badges(page: Page): Promise<Badge[]> {
  const url = page.url();
  const reply = await extensionWorker(page.context()).evaluate(async (u) => {
    const tabs = (await chrome.tabs.query({})).filter((t) => t.url === u);
    if (tabs.length > 1) throw new Error(`${tabs.length} tabs show ${u}: close the others first`);
    const id = tabs[0]?.id;
    if (id === undefined) return { ok: true, value: [] };
    try {
      return (await chrome.tabs.sendMessage(id, { type: 'badges' }, { frameId: 0 })) as unknown;
    } catch {
      // The content script is not there (yet): no badges.
      return { ok: true, value: [] };
    }
  }, url);
  const r = reply as { ok: true; value: BadgeInfo[] } | { ok: false; code: string; message: string } | undefined;
  if (!r) return [];
  if (!r.ok) throw new Error(`badges: ${r.code}: ${r.message}`);
  return r.value.map((b) => ({ ...b, ai: b.ai ?? Number.NaN, probs: b.probs ?? [], backend: b.backend ?? '' }));
}

/** Hovers a badge (by its key) the way a user does, and returns it with its details open. */
export async function openBadge(page: Page, key: string): Promise<Badge> {
  const find = async () => (await badges(page)).find((b) => b.key === key);
  const badge = await find();
  if (!badge) throw new Error(`no badge for ${key}`);
  await page.mouse.move(badge.rect.x + badge.rect.width / 2, badge.rect.y + badge.rect.height / 2);
  let open: Badge | undefined;
  await expect.poll(async () => (open = await find())?.tip ?? null, { timeout: 10_000 }).not.toBeNull();
  return open!;
}

export interface ProxiedRequest {
  method: string;
  url: string;
  /** Bytes in the request body (a GET for media has none). */
  bodyBytes: number;
  /** The body as text (first 64 kB), to show it carries no media or results. */
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface RecordingProxy {
  url: string;
  log: ProxiedRequest[];
  /**
   * Make the proxy a tampering man-in-the-middle: the answer to a GET of `url` (absolute) gets `body` in place of what
   * the server sent (status and headers kept, content-length fixed); null stops it. The network-model e2e uses this
   * to cause a download whose bytes are not the ones committed on chain.
   */
  tamper(url: string, body: Buffer | null): void;
  close(): Promise<void>;
}

/**
 * A plain HTTP forward proxy that records every request the browser sends through it (pages, service worker,
 * offscreen document alike) and forwards it; HTTPS tunnels (CONNECT) are recorded and refused, except to the
 * authorities `tunnel` names (host:port: the chain's WebSocket, which Chromium sends through a CONNECT tunnel). This is
 * the request log the privacy test reads: Playwright's own events do not cover every extension context.
 */
export async function startRecordingProxy(options: { tunnel?: (authority: string) => boolean } = {}): Promise<RecordingProxy> {
  const log: ProxiedRequest[] = [];
  const tampered = new Map<string, Buffer>();
  const tunnels = new Set<Socket>();
  const server = createServer((req, res) => {
    // A browser closing mid-request resets these; the log loses one request, the test worker must not crash.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '';
      log.push({
        method: req.method ?? '',
        url,
        bodyBytes: body.length,
        body: body.subarray(0, 65536).toString('latin1'),
        headers: req.headers,
      });
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: req.method,
          headers: req.headers,
        },
        (up) => {
          up.on('error', () => res.destroy());
          const swap = req.method === 'GET' ? tampered.get(target.href) : undefined;
          if (swap) {
            up.resume();
            res.writeHead(up.statusCode ?? 502, { ...up.headers, 'content-length': String(swap.length) }).end(swap);
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
      upstream.end(body);
    });
  });
  server.on('connect', (req, socket: Socket, head: Buffer) => {
    // First, before any early return: a browser that quits resets its tunnels (refused ones too), and a socket
    // without an error listener turns that reset into an uncaught "read ECONNRESET" in the test worker.
    socket.on('error', () => undefined);
    const authority = req.url ?? '';
    log.push({ method: 'CONNECT', url: authority, bodyBytes: 0, body: '', headers: req.headers });
    if (!options.tunnel?.(authority)) return void socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const [host, port] = [
      authority.slice(0, authority.lastIndexOf(':')),
      Number(authority.slice(authority.lastIndexOf(':') + 1)),
    ];
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    const upstream = connect(port, host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    tamper: (url, body) => void (body ? tampered.set(new URL(url).href, body) : tampered.delete(new URL(url).href)),
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
        for (const t of tunnels) t.destroy();
      }),
  };
}

/** What no request may carry wherever it goes: a verdict, our name, the loopback test hosts, pixels. */
const PRIVATE_MARKERS = ['probabilities', 'veracity', '127.0.0.1', 'synthetic', 'data:image'];

/**
 * Requests that went neither to the test's servers nor through an allowed tunnel: Chromium itself still probes Google
 * services (component updater, sign-in) even with background networking off. The proxy refuses every other HTTPS
 * tunnel; no plain request may carry anything from the pages or the extension (PRIVATE_MARKERS, nor any of the
 * test's media file names).
 */
export function expectOnlyChromiumProbes(elsewhere: ProxiedRequest[], mediaNames: string[]): void {
  const markers = [...PRIVATE_MARKERS, ...mediaNames];
  for (const r of elsewhere) {
    if (r.method === 'CONNECT') continue;
    const text = `${r.url}\n${r.body}`;
    for (const m of markers) expect(text.includes(m), `${r.method} ${r.url} carries ${m}`).toBe(false);
    expect(new URL(r.url).host, r.url).toMatch(/(^|\.)(googleapis|google|gvt1)\.com$/);
  }
}
