// Integration: the Node miner loads a bundle by URL from a real HTTP server (models/fixtures/tiny served on port 0)
// and declares it in the handshake: the auth it sends to a real WebSocket peer speaking the validator's side of the
// protocol (signHello, verifyAuth) carries bundleDigest of the manifest.json it loaded. Then the same through the
// veracity-miner-node CLI, and a tampered bundle refused by the CLI in one line with its code.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { loadNodeDetector } from '@veracity/models/node';
import {
  type AuthMessage,
  bundleDigest,
  bundleFileUrl,
  cryptoReady,
  decodeText,
  encode,
  MAX_BUNDLE_BYTES,
  signHello,
  verifyAuth,
} from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { run } from '../../../models/cli/cli-test-support.js';
import { NodeMiner } from './node-miner.js';

const TINY = new URL('../../../models/fixtures/tiny/', import.meta.url);
const MINER_CLI = fileURLToPath(new URL('../../bin/veracity-miner-node.mjs', import.meta.url));
const manifestBytes = readFileSync(new URL('manifest.json', TINY));
const model = readFileSync(new URL('model.onnx', TINY));
const TINY_ID = bundleDigest(manifestBytes);
const NETUID = 7;

let http: Server;
let bundleUrl = '';
let wss: WebSocketServer;
let validatorUrl = '';
/** Every auth the peer received, verified against the hello it sent on that connection. */
const auths: Array<{ auth: AuthMessage; verified: boolean }> = [];
/** Paths the HTTP server was asked for. */
const requested: string[] = [];
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });

beforeAll(async () => {
  await cryptoReady();
  const files: Record<string, Uint8Array> = {
    '/tiny/manifest.json': manifestBytes,
    '/tiny/model.onnx': model,
    '/tampered/manifest.json': manifestBytes,
    '/tampered/model.onnx': Uint8Array.from(model, (b, i) => (i === 7 ? b ^ 0xff : b)),
  };
  http = createServer((req, res) => {
    requested.push(req.url ?? '');
    const body = files[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200).end(body);
  });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  bundleUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;

  // The validator's side of the handshake, no more: hello, then check the auth and keep it.
  const validator = keyring.addFromUri('//Alice');
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) => {
    const hello = signHello(validator, { netuid: NETUID, timestamp: Date.now() });
    ws.send(encode(hello));
    ws.on('message', (data) => {
      const d = decodeText(data.toString(), undefined, { from: 'miner' });
      if (!d.ok || d.message.type !== 'auth') return;
      const ok = verifyAuth({
        auth: d.message,
        now: Date.now(),
        netuid: NETUID,
        validatorHotkey: validator.address,
        nonce: hello.nonce,
      });
      auths.push({ auth: d.message, verified: ok.ok });
    });
  });
  await new Promise<void>((ok) => wss.on('listening', ok));
  validatorUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((ok) => wss.close(() => ok()));
  await new Promise<void>((ok) => http.close(() => ok()));
});

const until = async (what: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the Node miner serves the bundle it was given, and says which', () => {
  it('loads a bundle by URL and declares bundleDigest(manifest.json) in the auth it signs', async () => {
    requested.length = 0;
    // Published URLs may lack the trailing slash; the files come from where bundleFileUrl (protocol README §12) says.
    const detector = await loadNodeDetector(`${bundleUrl}tiny`, { maxBytes: MAX_BUNDLE_BYTES });
    expect(requested).toEqual(['manifest.json', 'model.onnx'].map((f) => new URL(bundleFileUrl(`${bundleUrl}tiny`, f)).pathname));
    const miner = new NodeMiner({
      url: validatorUrl,
      signer: keyring.addFromUri('//Bob'),
      netuid: NETUID,
      behaviour: 'model',
      detector,
    });
    expect(miner.bundleSha256).toBe(TINY_ID);
    auths.length = 0;
    await miner.start();
    try {
      await until(() => auths.length > 0);
    } finally {
      miner.stop();
      await detector.dispose();
    }
    expect(auths[0]).toEqual({ auth: expect.objectContaining({ bundleSha256: TINY_ID }), verified: true });
  });

  it('a miner without a model declares nothing, unless told what to declare', async () => {
    auths.length = 0;
    const quiet = new NodeMiner({
      url: validatorUrl,
      signer: keyring.addFromUri('//Charlie'),
      netuid: NETUID,
      behaviour: 'random',
    });
    const told = new NodeMiner({
      url: validatorUrl,
      signer: keyring.addFromUri('//Dave'),
      netuid: NETUID,
      behaviour: 'random',
      bundleSha256: 'c'.repeat(64),
    });
    await Promise.all([quiet.start(), told.start()]);
    try {
      await until(() => auths.length >= 2);
    } finally {
      quiet.stop();
      told.stop();
    }
    const byHotkey = new Map(auths.map((a) => [a.auth.hotkey, a.auth]));
    expect(byHotkey.get(keyring.addFromUri('//Charlie').address)).not.toHaveProperty('bundleSha256');
    expect(byHotkey.get(keyring.addFromUri('//Dave').address)?.bundleSha256).toBe('c'.repeat(64));
  });

  it('veracity-miner-node --bundle URL: names the bundle at start-up and declares it; refuses a tampered one in one line', async () => {
    auths.length = 0;
    const cli = spawn(
      process.execPath,
      [MINER_CLI, '--validator', validatorUrl, '--netuid', String(NETUID), '--bundle', `${bundleUrl}tiny/`],
      { env: { ...process.env, VERACITY_MINER_URI: '//Eve' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((ok) => cli.on('exit', ok));
    try {
      // The CLI mines until stopped: wait for its start-up line and its auth, then stop it as a user would.
      await until(() => auths.length > 0 && /^mining as /m.test(stderr), 30_000);
    } finally {
      cli.kill('SIGTERM');
      await exited;
    }
    expect(auths[0]).toEqual({ auth: expect.objectContaining({ bundleSha256: TINY_ID }), verified: true });
    expect(stderr).toMatch(
      new RegExp(
        `^mining as \\S+ on ${validatorUrl} with bundle ${TINY_ID.slice(0, 12)} \\(veracity-fixture-tiny 0\\.0\\.1, ${bundleUrl}tiny/\\)$`,
        'm',
      ),
    );

    const bad = await run(MINER_CLI, ['--validator', validatorUrl, '--bundle', `${bundleUrl}tampered/`], {
      VERACITY_MINER_URI: '//Eve',
    });
    expect(bad.code, bad.stderr).toBe(2);
    const last = bad.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(
      new RegExp(
        `^veracity-miner-node: --bundle ${bundleUrl}tampered/: E_SHA256_MISMATCH: model\\.onnx has sha256 [0-9a-f]{64}, the manifest says`,
      ),
    );
    expect(last).toMatch(/ — fix: pass --bundle/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
