import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestPath, statusHandler } from './http.js';
import { createMetrics } from './metrics.js';
import type { StatusSnapshot } from './types.js';

describe('the validator status HTTP routes', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const pageDir = mkdtempSync(join(tmpdir(), 'veracity-page-'));
    writeFileSync(join(pageDir, 'index.html'), '<title>status</title>');
    writeFileSync(join(pageDir, 'app.js'), 'console.log(1)');
    const snapshot = () => ({ rounds: 7 }) as unknown as StatusSnapshot;
    const handle = statusHandler({ metrics: createMetrics(), snapshot, pageDir });
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('serves the snapshot, metrics, health and the page; 404 and 405 otherwise', async () => {
    expect(await (await fetch(`${base}/api/status`)).json()).toEqual({ rounds: 7 });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('# HELP');
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toBe('<title>status</title>');
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toBe('text/javascript');
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/api/status`, { method: 'POST' })).status).toBe(405);
  });

  it('reads request targets without new URL, so targets it rejects are a 400 and not a crash', () => {
    expect(requestPath('/api/status?x=1#f')).toBe('/api/status');
    expect(requestPath(undefined)).toBe('/');
    expect(requestPath('http://host:1/metrics')).toBe('/metrics');
    for (const t of ['//', '///', '//[', '//x:99999']) expect(requestPath(t)).toBe(t);
    for (const t of ['*', 'x', 'http://[/', 'file:///etc/passwd']) expect(requestPath(t)).toBeNull();
  });
});
