import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const STATUS_PAGE_SRC = fileURLToPath(new URL('../../status-page/', import.meta.url));
export const STATUS_PAGE_DIST = fileURLToPath(new URL('../../dist/status/', import.meta.url));

/** Builds the preact status page once (Vite is a dev dependency of the workspace); later starts reuse it. */
export async function ensureStatusPage(force = false): Promise<string> {
  if (!force && existsSync(`${STATUS_PAGE_DIST}index.html`)) return STATUS_PAGE_DIST;
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
