import type { IncomingMessage, ServerResponse } from 'node:http';
import { staticHandler } from '../static-files.js';
import type { Metrics } from './metrics.js';
import type { StatusSnapshot } from './types.js';

/**
 * The path of a request target, or null when it is not one this server answers. Not `new URL(target, base)`: a
 * target such as `//`, `//[` or `//x:99999` is a scheme-relative URL to it and throws, which took the whole
 * validator down from one unauthenticated request. Origin-form (`/a?b`) and absolute-form (`http://h/a`) only.
 */
export function requestPath(target: string | undefined): string | null {
  const raw = target ?? '/';
  if (raw.startsWith('/')) return raw.split(/[?#]/, 1)[0]!;
  if (/^https?:\/\//i.test(raw)) {
    try {
      return new URL(raw).pathname;
    } catch {
      return null;
    }
  }
  return null;
}

/** Routes the validator's HTTP side: /metrics (Prometheus), /api/status (JSON), /healthz, and the status page. */
export function statusHandler(opts: { metrics: Metrics; snapshot: () => StatusSnapshot; pageDir: string | null }) {
  const page = opts.pageDir ? staticHandler({ '/': opts.pageDir }) : null;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = requestPath(req.url);
    if (path === null) return void res.writeHead(400).end();
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
