/**
 * The one static-file server of the project: the validator's status page, the web miner that `npm start` serves,
 * and the e2e test pages all go through it, so MIME types, path-traversal checks and isolation headers live once.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { FAVICON_ICO } from './favicon.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.ico': 'image/x-icon',
};

export interface StaticOptions {
  /** Send COOP/COEP so pages are cross-origin isolated: WASM threads need SharedArrayBuffer. */
  isolate?: boolean;
  /** Cache-Control value; `no-store` by default because everything served here is rebuilt while it runs. */
  cacheControl?: string;
  /** Headers added to every answer (a bundle server sends `access-control-allow-origin: *`). */
  headers?: Record<string, string>;
  /**
   * Which files of a mount may be served, by their path below the mount (`manifest.json`); default all. A bundle
   * server allows only the files its manifest names, so nothing else in the folder leaks.
   */
  allow?: (prefix: string, relative: string) => boolean;
}

/**
 * Serves files from folders mounted at URL prefixes (`{ '/': dist, '/bundles/tiny/': fixture }`), longest prefix
 * first. Returns false when no mount matches so a caller can fall through to its own routes.
 */
export function staticHandler(mounts: Record<string, string>, options: StaticOptions = {}) {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return true;
    }
    const mount = table.find(([prefix]) => path.startsWith(prefix));
    if (!mount) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const [prefix, dir] = mount;
    if (options.allow && !options.allow(prefix, path.slice(prefix.length))) {
      res.writeHead(404, options.headers).end();
      return true;
    }
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return true;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, {
        'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': size,
        'cache-control': options.cacheControl ?? 'no-store',
        ...options.headers,
        ...(options.isolate
          ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
          : {}),
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      if (path === '/favicon.ico') {
        res.writeHead(200, {
          'content-type': 'image/x-icon',
          'content-length': FAVICON_ICO.length,
          'cache-control': 'max-age=86400',
        });
        res.end(req.method === 'HEAD' ? undefined : FAVICON_ICO);
      } else res.writeHead(404).end();
    }
    return true;
  };
}

export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A static server on `host:port` (port 0: any free port). */
export async function serveStatic(
  mounts: Record<string, string>,
  options: StaticOptions & { host?: string; port?: number } = {},
): Promise<Served> {
  const handle = staticHandler(mounts, options);
  const server: Server = createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // Keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
