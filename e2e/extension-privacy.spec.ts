// What a page can learn through the extension, tried as a page would (issue 22): the extension fetches page images
// without the user's cookies, so a page on one site cannot make it fetch, logged in, an image from another site; a
// page reads no score from the DOM (closed shadow roots, no attributes, one size for every badge); nothing in the
// package is web-accessible for a page to probe; and results are cached per top-level site. Also the badge details'
// placement inside the viewport and the "report a wrong verdict" receipt (issue 27), on the same pages.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { DATASET_DIR } from './support/images.js';
import {
  badges,
  buildExtension,
  EXTENSION_DIST,
  type Launched,
  launchWithExtension,
  openBadge,
  pickImages,
  type TestFile,
} from './support/extension.js';
import { type Served, serveStatic } from './support/static-server.js';

test.describe.configure({ mode: 'serial' });
test.setTimeout(180_000);

const COOKIE = { name: 'sid', value: 'let-me-in' };

interface Logged {
  path: string;
  headers: IncomingHttpHeaders;
}

/**
 * The other site's image server: /private/* only with the session cookie (403 without, as a logged-in image host
 * answers), /wall/* likewise but with a redirect to an HTML login page instead of a 403, /public/* to anyone, and /own.html, a page of its own showing `own` from /private/. no-store, so
 * every fetch reaches it and the log shows who asked, with what.
 */
async function imageServer(
  files: Record<string, Buffer>,
  own: string,
): Promise<{ port: number; log: Logged[]; close(): Promise<void> }> {
  const log: Logged[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    log.push({ path, headers: req.headers });
    if (path === '/own.html') {
      // A page of the image host itself, showing its own login-only image (same-origin: the page can read it).
      const html = `<!doctype html><meta charset="utf-8"><img id="own" src="/private/${own}" width="200" height="200">`;
      return void res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    }
    if (path === '/login') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<form>log in</form>');
    const [, scope, name] = path.split('/');
    const body = files[name ?? ''];
    const cookie = req.headers.cookie ?? '';
    const loggedIn = cookie.split(/;\s*/).includes(`${COOKIE.name}=${COOKIE.value}`);
    if (scope === 'wall' && body && !loggedIn) return void res.writeHead(302, { location: '/login' }).end();
    if (!body || (scope !== 'private' && scope !== 'public' && scope !== 'wall')) return void res.writeHead(404).end();
    if (scope === 'private' && !loggedIn) {
      return void res.writeHead(403, { 'cache-control': 'no-store' }).end('log in first');
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as AddressInfo).port,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

let browser: Launched;
let profile: string;
let pages: Served;
let images: Awaited<ReturnType<typeof imageServer>>;
let dir: string;
let publicFile: TestFile;
let privateFile: TestFile;
/** The page's site and the image host's: two loopback origins that are different sites (127.0.0.1 vs localhost). */
let siteA: string;
let imageHost: string;

/** The extension's own requests (a fetch from its offscreen document) and the page's (an <img>), for one path. */
const byExtension = (path: string) => images.log.filter((r) => r.path === path && r.headers['sec-fetch-dest'] === 'empty');
const byPage = (path: string) => images.log.filter((r) => r.path === path && r.headers['sec-fetch-dest'] === 'image');

async function open(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.bringToFront();
  return page;
}

test.beforeAll(async () => {
  await buildExtension();
  const picked = pickImages();
  // An AI image (a red badge to read) and a real one behind a login.
  publicFile = picked.find((i) => i.label !== 'real')!;
  privateFile = picked.find((i) => i.label === 'real')!;
  images = await imageServer(
    {
      [publicFile.name]: readFileSync(join(DATASET_DIR, publicFile.rel)),
      [privateFile.name]: readFileSync(join(DATASET_DIR, privateFile.rel)),
    },
    privateFile.name,
  );
  imageHost = `http://localhost:${images.port}`;
  dir = mkdtempSync(join(tmpdir(), 'veracity-privacy-'));
  // The public image at the very left edge (its badge's details would be cut off there), the private one beside it.
  writeFileSync(
    join(dir, 'privacy.html'),
    `<!doctype html><meta charset="utf-8"><title>privacy</title><style>body{margin:0} img{position:absolute;top:40px}</style>
<img id="public" src="${imageHost}/public/${publicFile.name}" style="left:0" width="120" height="160">
<img id="private" src="${imageHost}/private/${privateFile.name}" style="left:400px" width="200" height="200">
<img id="wall" src="${imageHost}/wall/${privateFile.name}" style="left:700px" width="200" height="200">`,
  );
  pages = await serveStatic({ '/': dir });
  siteA = `http://127.0.0.1:${pages.port}`;
  profile = mkdtempSync(join(tmpdir(), 'veracity-profile-'));
  // This Chromium blocks third-party cookies by default; the user here allows them (cookie_controls_mode 0, as
  // Chrome's own default still is in many places), so the page's cross-site <img> goes out logged in: the case where
  // an extension fetching with credentials would fetch as the user.
  mkdirSync(join(profile, 'Default'));
  writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  browser = await launchWithExtension(profile);
  // The user is logged in on the image host: a cookie that goes with cross-site requests (SameSite=None; Secure,
  // which Chromium allows on http://localhost), so the page's own <img> loads it.
  await browser.context.addCookies([
    { ...COOKIE, domain: 'localhost', path: '/', sameSite: 'None', secure: true, httpOnly: true, expires: -1 },
  ]);
});

test.afterAll(async () => {
  await browser?.close();
  await images?.close();
  await pages?.close();
  for (const d of [profile, dir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('a cross-site image that needs a cookie: fetched without it, badged "not checked", no score in the DOM', async () => {
  const page = await open(`${siteA}/privacy.html`);
  const privatePath = `/private/${privateFile.name}`;
  const publicPath = `/public/${publicFile.name}`;
  await expect.poll(async () => (await badges(page)).length, { timeout: 90_000 }).toBe(3);

  // The page's own request carried the cookie (so the user sees the image), the extension's carried none.
  expect(byPage(privatePath).length).toBeGreaterThan(0);
  for (const r of byPage(privatePath)) expect(r.headers.cookie).toContain(`${COOKIE.name}=${COOKIE.value}`);
  expect(byExtension(privatePath).length).toBeGreaterThan(0);
  for (const r of images.log.filter((x) => x.headers['sec-fetch-dest'] === 'empty')) {
    expect(r.headers.cookie, `${r.path} fetched by the extension`).toBeUndefined();
    expect(r.headers.authorization).toBeUndefined();
  }

  // The badge says it could not read the image instead of giving a score.
  const all = await badges(page);
  const locked = all.find((b) => b.key.endsWith(privatePath))!;
  expect(locked.tone).toBe('needs-login');
  // A login wall (a redirect to an HTML page) is the same answer as a 403.
  expect(all.find((b) => b.key.endsWith(`/wall/${privateFile.name}`))!.tone).toBe('needs-login');
  expect(byExtension('/login').length).toBeGreaterThan(0);
  expect(locked.probs).toEqual([]);
  expect(locked.text).toContain('🔒');
  const shown = await openBadge(page, locked.key);
  expect(shown.text).toContain(`Not checked: localhost:${images.port} sends this image only with your login`);
  await page.mouse.move(700, 600);
  // Details open on hover only (while open, the box's size is the page's to measure, as any element's is).
  await expect.poll(async () => (await badges(page)).every((b) => b.tip === null)).toBe(true);
  const scored = all.find((b) => b.key.endsWith(publicPath))!;
  expect(scored.probs).toHaveLength(3);
  expect(scored.text).toMatch(/\d+%/);

  // What the page can read: hosts with a style attribute only, no shadow root, no text, all the same size.
  const seen = await page.evaluate(() =>
    [...document.querySelectorAll('veracity-badge')].map((h) => ({
      attributes: [...h.attributes].map((a) => a.name),
      shadowRoot: h.shadowRoot,
      text: h.textContent,
      html: h.innerHTML,
      size: [h.getBoundingClientRect().width, h.getBoundingClientRect().height, h.scrollWidth, h.scrollHeight],
    })),
  );
  expect(seen).toHaveLength(3);
  for (const h of seen) {
    expect(h.attributes).toEqual(['style']);
    expect(h.shadowRoot).toBeNull();
    expect(h.text).toBe('');
    expect(h.html).toBe('');
    expect(h.size).toEqual(seen[0]!.size);
  }
  const container = await page.evaluate(() => {
    const c = document.querySelector('veracity-badges');
    return { attributes: [...c!.attributes].map((a) => a.name), text: c!.textContent };
  });
  expect(container).toEqual({ attributes: ['style'], text: '' });
  const markup = await page.evaluate(() => document.documentElement.outerHTML);
  expect(markup).not.toMatch(/data-(ai|probs|tone|key)|probabilit|synthetic/);
  await page.close();

  // The default backend, 'auto', scored these on WASM: this machine's WebGPU adapter is SwiftShader (software).
  const options = await open(`chrome-extension://${browser.extensionId}/src/options/index.html`);
  await expect(options.getByTestId('engine')).toContainText('engine: ready on wasm');
  await expect(options.getByTestId('engine')).toContainText('webgpu: skipped by auto: software adapter');
  await options.close();
});

test('a login-only image on its own site is scored from the pixels the page shows, not fetched as the user', async () => {
  const privatePath = `/private/${privateFile.name}`;
  const before = byExtension(privatePath).length;
  const page = await open(`${imageHost}/own.html`);
  await expect.poll(async () => (await badges(page)).length, { timeout: 60_000 }).toBe(1);
  const [badge] = await badges(page);
  // Scored (the page could read these pixels itself: same-origin), after one refused credential-less fetch.
  expect(badge!.tone).not.toBe('needs-login');
  expect(badge!.probs).toHaveLength(3);
  expect(byExtension(privatePath).length).toBe(before + 1);
  for (const r of byExtension(privatePath)) expect(r.headers.cookie).toBeUndefined();
  await page.close();
});

test('nothing in the package is web-accessible: a page cannot probe for the extension', async () => {
  const manifest = JSON.parse(readFileSync(join(EXTENSION_DIST, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest.web_accessible_resources).toBeUndefined();
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(relative(EXTENSION_DIST, p));
    }
  };
  walk(EXTENSION_DIST);
  const page = await open(`${siteA}/privacy.html`);
  const urls = files.map((f) => `chrome-extension://${browser.extensionId}/${f}`);
  // Every file of the build, as a page would try them (fetch, and a <script> tag for the content script).
  const reachable = await page.evaluate(async (list) => {
    const out: string[] = [];
    for (const u of list) {
      try {
        await fetch(u);
        out.push(u);
      } catch {
        // Refused: not web-accessible.
      }
    }
    return out;
  }, urls);
  expect(reachable).toEqual([]);
  const scriptLoads = await page.evaluate(
    (u) =>
      new Promise<boolean>((ok) => {
        const s = Object.assign(document.createElement('script'), { src: u });
        s.onload = () => ok(true);
        s.onerror = () => ok(false);
        document.head.append(s);
      }),
    urls.find((u) => u.endsWith('src/content/index.js'))!,
  );
  expect(scriptLoads).toBe(false);
  await page.close();
});

test('results are cached per top-level site: the same image on another site is scored for that site', async () => {
  const publicPath = `/public/${publicFile.name}`;
  const before = byExtension(publicPath).length;
  expect(before).toBeGreaterThan(0);
  // Same site again: the extension answers from its cache (no new fetch).
  let page = await open(`${siteA}/privacy.html`);
  await expect.poll(async () => (await badges(page)).filter((b) => b.key.endsWith(publicPath)).length).toBe(1);
  expect(byExtension(publicPath).length).toBe(before);
  await page.close();
  // Another site (localhost, not 127.0.0.1) with the same image: not answered from site A's result.
  page = await open(`http://localhost:${pages.port}/privacy.html`);
  await expect.poll(async () => (await badges(page)).filter((b) => b.key.endsWith(publicPath)).length).toBe(1);
  expect(byExtension(publicPath).length).toBe(before + 1);
  await page.close();
});

test('badge details stay inside the viewport at its left edge; "report a wrong verdict" saves a receipt to export', async () => {
  const page = await open(`${siteA}/privacy.html`);
  const publicPath = `/public/${publicFile.name}`;
  await expect.poll(async () => (await badges(page)).filter((b) => b.probs.length === 3).length, { timeout: 60_000 }).toBe(1);
  const key = (await badges(page)).find((b) => b.key.endsWith(publicPath))!.key;
  const viewport = page.viewportSize()!;
  const badge = await openBadge(page, key);
  // The image is 120 px wide at x=0: details right-aligned under its badge would start left of the viewport.
  expect(badge.rect.x + badge.rect.width).toBeLessThan(190);
  expect(badge.tip!.x).toBeGreaterThanOrEqual(0);
  expect(badge.tip!.x + badge.tip!.width).toBeLessThanOrEqual(viewport.width);
  expect(badge.tip!.y).toBeGreaterThanOrEqual(badge.rect.y + badge.rect.height - 1);

  // The report button, clicked as a user does (the page cannot reach it in a closed shadow root).
  const button = badge.reportButton!;
  await page.mouse.move(badge.rect.x + badge.rect.width / 2, badge.tip!.y + 4);
  await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
  await expect
    .poll(async () => (await badges(page)).find((b) => b.key === key)?.text ?? '')
    .toContain('Saved on this device (1 report)');

  // The popup lists it and exports it as a JSON download; nothing was sent anywhere (the image server saw no POST).
  const tab = await browser.worker.evaluate(async (u) => (await chrome.tabs.query({})).find((t) => t.url === u)?.id, page.url());
  const popup = await browser.context.newPage();
  await popup.goto(`chrome-extension://${browser.extensionId}/src/popup/index.html?tab=${tab}`);
  await expect(popup.getByTestId('reports')).toContainText('1 wrong-verdict report saved on this device');
  await expect(popup.getByTestId('needs-login')).toContainText('2 images not checked');
  const [download] = await Promise.all([popup.waitForEvent('download'), popup.getByTestId('export-reports').click()]);
  expect(download.suggestedFilename()).toMatch(/^veracity-reports-[\d-]+\.json$/);
  const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
    reports: Array<{
      site: string;
      media: { url: string; sha256: string; kind: string };
      bundle: { id: string; version: string; sha256: string };
      probabilities: number[];
      ai: number;
      scoredAt: string;
      reportedAt: string;
    }>;
  };
  expect(exported.reports).toHaveLength(1);
  const r = exported.reports[0]!;
  const bundle = JSON.parse(readFileSync(join(EXTENSION_DIST, 'bundle/manifest.json'), 'utf8')) as {
    id: string;
    version: string;
    model: { sha256: string };
  };
  expect(r.site).toBe('127.0.0.1');
  expect(r.media).toMatchObject({ url: key, kind: 'image' });
  expect(r.media.sha256).toBe(
    createHash('sha256')
      .update(readFileSync(join(DATASET_DIR, publicFile.rel)))
      .digest('hex'),
  );
  expect(r.bundle).toEqual({ id: bundle.id, version: bundle.version, sha256: bundle.model.sha256 });
  expect(r.probabilities).toEqual(badge.probs);
  expect(r.ai).toBeCloseTo(badge.ai, 9);
  expect(Date.parse(r.scoredAt)).toBeLessThanOrEqual(Date.parse(r.reportedAt));
  expect(images.log.every((x) => x.headers['content-length'] === undefined)).toBe(true);

  await popup.getByTestId('clear-reports').click();
  await expect(popup.getByTestId('reports')).toContainText('No wrong-verdict reports saved');
  await popup.close();
  await page.close();
});
