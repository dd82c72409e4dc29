// Time to badge a 100-image page with the extension loaded unpacked in Chromium, per backend, and the extension's
// memory. WebGPU here is SwiftShader's CPU fallback (~100-250x slower than WASM), so its case is capped at
// WEBGPU_IMAGES images and says so; on a real GPU raise --webgpu-images.
//
//   npx tsx bench/extension.ts [--images 100] [--webgpu-images 8]
import { readdirSync, readFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badges, type Launched, launchWithExtension, serveTestSite } from '../e2e/support/extension.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const IMAGES = arg('images', 100);
const WEBGPU_IMAGES = arg('webgpu-images', 8);

/** Resident memory of the extension's own process (service worker + offscreen document + ORT), from /proc. */
function extensionRssMb(profile: string): { extension_process_mb: number; processes: number } {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const info = new Map<number, { ppid: number; cmd: string }>();
  for (const p of procs) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      info.set(Number(p), { ppid, cmd });
    } catch {
      // Gone meanwhile.
    }
  }
  const browser = [...info].find(([, v]) => v.cmd.includes(profile) && !v.cmd.includes('--type='))?.[0];
  const underBrowser = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 10; p = info.get(p)?.ppid ?? 0, hops++) if (p === browser) return true;
    return false;
  };
  let kb = 0;
  let n = 0;
  for (const [pid, v] of info) {
    if (!v.cmd.includes('--extension-process') || !underBrowser(pid)) continue;
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    kb += Number(m?.[1] ?? 0);
    n++;
  }
  return { extension_process_mb: Math.round(kb / 102.4) / 10, processes: n };
}

async function timeToBadge(l: Launched, url: string, count: number): Promise<{ first_badge_ms: number; all_badges_ms: number }> {
  const page = await l.context.newPage();
  await page.setViewportSize({ width: 1600, height: 1200 });
  // Timed inside the page (ms since navigation start), with no polling from here: a MutationObserver notes when
  // badge hosts arrive.
  await page.addInitScript(() => {
    const w = window as unknown as { badgeTimes: number[] };
    w.badgeTimes = [];
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes)
          if (n instanceof Element && n.localName === 'veracity-badge') w.badgeTimes.push(performance.now());
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(url);
  await page.waitForFunction((n) => (window as unknown as { badgeTimes: number[] }).badgeTimes.length >= n, count, {
    polling: 500,
    timeout: 600_000,
  });
  const times = await page.evaluate(() => (window as unknown as { badgeTimes: number[] }).badgeTimes);
  await page.close();
  return { first_badge_ms: Math.round(times[0]!), all_badges_ms: Math.round(times[count - 1]!) };
}

async function setBackend(l: Launched, backend: 'wasm' | 'webgpu'): Promise<void> {
  await l.worker.evaluate(
    (b) =>
      chrome.storage.local.set({
        settings: { enabled: true, threshold: 0.5, backend: b, allowSites: [], blockSites: [], badgeReal: true },
      }),
    backend,
  );
}

const site = await serveTestSite({ manyCount: 1 });
const results: Record<string, unknown> = {};
try {
  for (const [backend, n] of [
    ['wasm', IMAGES],
    ['webgpu', WEBGPU_IMAGES],
  ] as const) {
    const profile = mkdtempSync(join(tmpdir(), 'veracity-bench-'));
    const l = await launchWithExtension(profile);
    try {
      await setBackend(l, backend);
      // Cold: the first page after launch pays for loading the model and compiling the backend.
      const cold = await timeToBadge(l, `${site.a.url}grid.html?n=${n}&run=cold`, n);
      // Warm: new URLs (nothing cached), engine already running.
      const warm = await timeToBadge(l, `${site.a.url}grid.html?n=${n}&run=warm`, n);
      const memory = extensionRssMb(profile);
      const page = await l.context.newPage();
      await page.goto(`${site.a.url}one.html`);
      await page.waitForSelector('veracity-badge', { state: 'attached', timeout: 120_000 });
      const shown = (await badges(page))[0]?.backend;
      await page.close();
      results[backend === 'webgpu' ? 'webgpu-swiftshader' : backend] = {
        images: n,
        ...(backend === 'webgpu' && n < IMAGES ? { note: `capped at ${n} images: SwiftShader WebGPU is a CPU fallback` } : {}),
        backend_reported: shown ?? null,
        cold,
        warm,
        per_image_warm_ms: Math.round((warm.all_badges_ms / n) * 10) / 10,
        memory,
      };
    } finally {
      await l.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
} finally {
  await site.close();
}

const out = {
  figure: 'extension: time to badge an N-image page (navigation to first / all badges) and extension process memory',
  machine: `${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`,
  results,
};
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results/extension.json'), `${JSON.stringify(out, null, 2)}\n`);
