import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Metrics } from './metrics.js';
import type { StatusSnapshot } from './types.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/** Routes the validator's HTTP side: /metrics (Prometheus), /api/status (JSON), /healthz, and the status page. */
export function statusHandler(opts: { metrics: Metrics; snapshot: () => StatusSnapshot; pageDir: string | null }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (path === '/metrics') {
      const body = await opts.metrics.registry.metrics();
      return void res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(body);
    }
    if (path === '/api/status') {
      return void res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(opts.snapshot()));
    }
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (!opts.pageDir) return void res.writeHead(404).end();
    const file = normalize(join(opts.pageDir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(opts.pageDir)) return void res.writeHead(403).end();
    try {
      const size = statSync(file).size;
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  };
}
