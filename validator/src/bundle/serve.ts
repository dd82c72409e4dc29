/**
 * A read-only HTTP server for published bundles (veracity-bundle serve, npm start, tests): GET or HEAD of
 * `manifest.json` and the files that manifest names, nothing else in the folder; `access-control-allow-origin: *`
 * so a browser extension or web page on another origin can download it; content-length from the file. Built on the
 * project's one static server (static-files.ts). Each bundle is checked (checkBundleFiles) before it is served.
 */
import { serveStatic, type Served } from '../static-files.js';
import { type CheckedBundle, checkBundleFiles } from './check.js';

export interface ServedBundles extends Served {
  /** Each mount's checked bundle and its URL (the folder URL a commitment names). */
  bundles: Array<CheckedBundle & { prefix: string; url: string }>;
}

/** Normalises a mount prefix to `/name/` (or `/`). */
function mountPrefix(p: string): string {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}/` : '/';
}

/**
 * Serves bundle folders at URL prefixes (`{ '/': dir }` or `{ '/tiny/': a, '/detector/': b }`) on `host:port`
 * (port 0: any free port). Throws BundleCheckError for a folder that is not a valid bundle.
 */
export async function serveBundles(
  mounts: Record<string, string>,
  opts: { host?: string; port?: number } = {},
): Promise<ServedBundles> {
  const checked = await Promise.all(
    Object.entries(mounts).map(async ([p, dir]) => ({ prefix: mountPrefix(p), ...(await checkBundleFiles(dir)) })),
  );
  const allowed = new Map(checked.map((b) => [b.prefix, new Set(b.files)]));
  const served = await serveStatic(Object.fromEntries(checked.map((b) => [b.prefix, b.dir])), {
    ...opts,
    // The bundle is immutable under its sha256, but a folder may be republished: caches revalidate.
    cacheControl: 'no-cache',
    headers: { 'access-control-allow-origin': '*' },
    allow: (prefix, relative) => allowed.get(prefix)?.has(relative) ?? false,
  });
  return { ...served, bundles: checked.map((b) => ({ ...b, url: new URL(b.prefix, served.url).href })) };
}
