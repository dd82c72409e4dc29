import type { IncomingMessage, ServerResponse } from 'node:http';
import { staticHandler } from '../static-files.js';
import type { Metrics } from './metrics.js';
import type { StatusSnapshot } from './types.js';

/** Routes the validator's HTTP side: /metrics (Prometheus), /api/status (JSON), /healthz, and the status page. */
export function statusHandler(opts: { metrics: Metrics; snapshot: () => StatusSnapshot; pageDir: string | null }) {
  const page = opts.pageDir ? staticHandler({ '/': opts.pageDir }) : null;
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
    if (!page?.(req, res)) res.writeHead(404).end();
  };
}
