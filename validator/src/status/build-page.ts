import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const STATUS_PAGE_SRC = fileURLToPath(new URL('../../status-page/', import.meta.url));
export const STATUS_PAGE_DIST = fileURLToPath(new URL('../../dist/status/', import.meta.url));

const TYPES_FILE = fileURLToPath(new URL('./types.ts', import.meta.url));

/** Whether the built page is older than its sources (the page or the snapshot types it renders). */
function stale(): boolean {
  const built = statSync(`${STATUS_PAGE_DIST}index.html`).mtimeMs;
  const sources = [TYPES_FILE, ...readdirSync(STATUS_PAGE_SRC).map((f) => `${STATUS_PAGE_SRC}${f}`)];
  return sources.some((f) => existsSync(f) && statSync(f).mtimeMs > built);
}

/** Builds the preact status page (Vite is a dev dependency of the workspace); later starts reuse it until a source
 * file changes. */
export async function ensureStatusPage(force = false): Promise<string> {
  if (!force && existsSync(`${STATUS_PAGE_DIST}index.html`) && !stale()) return STATUS_PAGE_DIST;
  const [{ build }, { default: preact }] = await Promise.all([import('vite'), import('@preact/preset-vite')]);
  await build({
    root: STATUS_PAGE_SRC,
    base: './',
    configFile: false,
    logLevel: 'warn',
    plugins: [preact()],
    build: { outDir: STATUS_PAGE_DIST, emptyOutDir: true },
  });
  return STATUS_PAGE_DIST;
}
