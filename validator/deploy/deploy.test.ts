// The validator's service files (issue 27): the systemd unit is linted by systemd itself where systemd-analyze
// exists, and both it and the Dockerfile are checked against the repository they install (paths that exist,
// options the validator knows, non-root, the database on the data volume, a health check on /api/status that
// really tells a running validator from none). No network and no docker engine are needed.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HELP } from '../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNIT = readFileSync(join(ROOT, 'validator/deploy/veracity-validator.service'), 'utf8');
const DOCKERFILE = readFileSync(join(ROOT, 'validator/deploy/Dockerfile'), 'utf8');
const KNOWN_ENV = new Set([...HELP.matchAll(/\b(VERACITY_[A-Z_]+)\b/g)].map((m) => m[1]));

/** [section, key, value] for every setting of a unit file. */
function unitSettings(text: string): Array<[string, string, string]> {
  let section = '';
  const out: Array<[string, string, string]> = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(l);
    if (s) section = s[1]!;
    else {
      const [k, ...v] = l.split('=');
      out.push([section, k!, v.join('=')]);
    }
  }
  return out;
}

/** Dockerfile instructions with continuation lines joined. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('systemd unit', () => {
  const settings = unitSettings(UNIT);
  const get = (section: string, key: string) => settings.filter(([s, k]) => s === section && k === key).map(([, , v]) => v);

  it('passes systemd-analyze verify (where systemd is installed)', () => {
    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.error) {
      // Not a skip: the structural checks below still run; this machine just has no systemd to ask.
      expect((analyze.error as NodeJS.ErrnoException).code).toBe('ENOENT');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'veracity-unit-'));
    try {
      writeFileSync(join(dir, 'veracity-validator.service'), UNIT);
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'veracity-validator.service')], { encoding: 'utf8' });
      // The only complaint allowed is that the ExecStart script is not installed at /opt/veracity on this machine.
      const complaints = `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => l.trim() && !/\/opt\/veracity\/validator\/bin\/veracity-validator\.mjs/.test(l));
      expect(complaints).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the repository CLI as a non-root user, with the database in its state directory', () => {
    expect(get('Service', 'User')).toEqual(['veracity']);
    const [exec] = get('Service', 'ExecStart');
    const script = exec!.split(' ')[1]!;
    expect(existsSync(join(ROOT, posix.relative(get('Service', 'WorkingDirectory')[0]!, script)))).toBe(true);
    const env = Object.fromEntries(get('Service', 'Environment').map((e) => e.split('=') as [string, string]));
    expect(dirname(env.VERACITY_DB!)).toBe(`/var/lib/${get('Service', 'StateDirectory')[0]}`);
    for (const name of Object.keys(env)) expect(KNOWN_ENV, `${name} is not a validator setting`).toContain(name);
    // A bad configuration exits 2 (the CLI contract); restarting would repeat it.
    expect(get('Service', 'RestartPreventExitStatus')).toEqual(['2']);
    expect(get('Service', 'ProtectSystem')).toEqual(['strict']);
    expect(get('Service', 'NoNewPrivileges')).toEqual(['yes']);
    expect(get('Install', 'WantedBy')).toEqual(['multi-user.target']);
  });
});

describe('Dockerfile', () => {
  const ins = instructions(DOCKERFILE);
  const ops = ins.map((i) => i.op);
  const envs = Object.fromEntries(
    ins.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
  );

  it('copies only files that exist, and builds from the repository root', () => {
    for (const copy of ins.filter((i) => i.op === 'COPY')) {
      const parts = copy.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
    }
    // Every workspace manifest is copied before npm ci (npm ci refuses a lockfile naming a missing workspace).
    const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    for (const w of workspaces) expect(DOCKERFILE).toContain(`COPY ${w}/package.json ${w}/`);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
    expect(ignored).toMatch(/^\*\*\/node_modules$/m);
    expect(ignored).toMatch(/^\.veracity$/m);
  });

  it('runs as a non-root user with the database on the data volume', () => {
    const user = ins.filter((i) => i.op === 'USER').at(-1)!.args;
    expect(user).not.toMatch(/^(root|0)$/);
    // Nothing runs as root after the switch, and the entrypoint comes after it.
    expect(ops.lastIndexOf('RUN')).toBeLessThan(ops.lastIndexOf('USER'));
    expect(ops.lastIndexOf('USER')).toBeLessThan(ops.indexOf('ENTRYPOINT'));
    const volumes = JSON.parse(ins.find((i) => i.op === 'VOLUME')!.args) as string[];
    expect(volumes).toContain(dirname(envs.VERACITY_DB!));
    expect(DOCKERFILE).toContain(`chown ${user}:${user} ${dirname(envs.VERACITY_DB!)}`);
    expect(ins.find((i) => i.op === 'EXPOSE')!.args).toBe(envs.VERACITY_PORT);
    for (const name of Object.keys(envs).filter((n) => n.startsWith('VERACITY_')))
      expect(KNOWN_ENV, `${name} is not a validator setting`).toContain(name);
    const entry = JSON.parse(ins.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(existsSync(join(ROOT, entry[1]!))).toBe(true);
  });

  it('health check: /api/status of a running validator passes, no validator fails', async () => {
    const check = ins.find((i) => i.op === 'HEALTHCHECK')!.args;
    const cmd = JSON.parse(check.slice(check.indexOf('CMD') + 3).trim()) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd[2]).toContain('/api/status');
    // The same request against a server that answers /api/status as the validator does (200 JSON) and 404 elsewhere.
    const server = createServer((req, res) =>
      req.url === '/api/status' ? res.writeHead(200, { 'content-type': 'application/json' }).end('{}') : res.writeHead(404).end(),
    );
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = String((server.address() as AddressInfo).port);
    const run = (p: string) =>
      new Promise<number | null>((ok) =>
        execFile(process.execPath, cmd.slice(1), { env: { ...process.env, VERACITY_PORT: p }, timeout: 10_000 }, (e) =>
          ok(e ? (typeof e.code === 'number' ? e.code : null) : 0),
        ),
      );
    try {
      expect(await run(port)).toBe(0);
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
    expect(await run(port)).toBe(1); // nothing listens now
  });
});
