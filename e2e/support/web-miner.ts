/**
 * The web miner under test: built once per process with its own Vite config, served as plain static files (the
 * product's static server, cross-origin isolated as `npm start` serves it), a real local chain with a bootstrapped
 * subnet and a real validator, a polkadot-js wallet provider injected into the page whose signer is a real keyring
 * in the test process, and a recorder of the page's WebSocket frames.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Page } from '@playwright/test';
import { decodeBinary, decodeText, type Message, type Modality } from '@veracity/protocol';
import { build } from 'vite';
import { DEFAULTS, type ValidatorConfig, runValidator, type RunningValidator } from '@veracity/validator';
import type { Subnet } from '@veracity/validator/test-support';
import { DATASET_DIR } from './images.js';

export const WEB_MINER_DIR = fileURLToPath(new URL('../../web-miner/', import.meta.url));
export const WEB_MINER_DIST = join(WEB_MINER_DIR, 'dist/');

let built: Promise<string> | undefined;

/** `npm run build -w web-miner`, in process, once per test run. */
export function buildWebMiner(): Promise<string> {
  built ??= (async () => {
    await build({ configFile: join(WEB_MINER_DIR, 'vite.config.ts'), root: WEB_MINER_DIR, logLevel: 'warn' });
    for (const f of ['index.html', 'bundle/manifest.json', 'ort/ort-wasm-simd-threaded.jsep.wasm']) {
      if (!existsSync(join(WEB_MINER_DIST, f))) throw new Error(`web-miner build lacks ${f}`);
    }
    return WEB_MINER_DIST;
  })();
  return built;
}

export { startSubnet, type Subnet } from '@veracity/validator/test-support';

/** The real validator on that subnet, reading ../shared/datasets; weights only when the test asks. */
export function startValidator(subnet: Subnet | null, overrides: Partial<ValidatorConfig>): Promise<RunningValidator> {
  return runValidator({
    ...DEFAULTS,
    dataset: DATASET_DIR,
    db: join(mkdtempSync(join(tmpdir(), 'veracity-web-miner-')), 'v.db'),
    port: 0,
    roundIntervalMs: 0,
    weightsIntervalMs: 3_600_000,
    logLevel: 'warn',
    ...(subnet ? { chainEndpoint: subnet.net.endpoint, netuid: subnet.boot.netuid, hotkeyUri: '//Alice' } : {}),
    ...overrides,
  });
}

export const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });

/**
 * Injects the documented `window.injectedWeb3['polkadot-js']` provider (what the polkadot{.js} extension injects)
 * holding one account. Its signRaw wraps the bytes in <Bytes>…</Bytes> and signs them, as the extension does, with
 * a keyring pair that lives in the test process (the page never sees the secret).
 */
export async function injectWallet(page: Page, uri: string, name = 'test hotkey'): Promise<string> {
  await cryptoWaitReady();
  const pair = keyring.addFromUri(uri);
  const fn = `__veracityTestSign_${Math.random().toString(36).slice(2)}`;
  await page.exposeFunction(fn, (address: string, data: string) => {
    if (address !== pair.address) throw new Error(`this wallet does not hold ${address}`);
    return u8aToHex(pair.sign(u8aWrapBytes(hexToU8a(data))));
  });
  // A string, not a function: tsx/esbuild would wrap a function's inner closures in a __name() helper the page lacks.
  await page.addInitScript(`(() => {
    const accounts = [{ address: ${JSON.stringify(pair.address)}, name: ${JSON.stringify(name)}, type: 'sr25519' }];
    let id = 0;
    window.injectedWeb3 = Object.assign(window.injectedWeb3 || {}, {
      'polkadot-js': {
        version: '0.63.1',
        enable: async () => ({
          accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => undefined; } },
          metadata: { get: async () => [], provide: async () => true },
          signer: {
            signRaw: async (p) => ({ id: ++id, signature: await window[${JSON.stringify(fn)}](p.address, p.data) }),
          },
        }),
      },
    });
  })();`);
  return pair.address;
}

export interface RecordedChallenge {
  id: string;
  modality: Modality;
  media: Buffer[];
  mimes: string[];
}

/** Every challenge the page received and every answer it sent, decoded with the protocol codec. */
export function recordFrames(page: Page) {
  const challenges = new Map<string, RecordedChallenge>();
  const answers = new Map<string, [number, number, number]>();
  const sent: Message[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') {
        const d = decodeText(payload, undefined, { from: 'validator' });
        if (d.ok && d.message.type === 'challenge')
          challenges.set(d.message.id, { id: d.message.id, modality: d.message.modality, media: [], mimes: [] });
        return;
      }
      const f = decodeBinary(payload);
      if (!f.ok) return;
      const c = challenges.get(f.frame.header.challengeId);
      c?.media.push(Buffer.from(f.frame.data));
      c?.mimes.push(f.frame.header.mime);
    });
    ws.on('framesent', ({ payload }) => {
      if (typeof payload !== 'string') return;
      const d = decodeText(payload, undefined, { from: 'miner' });
      if (!d.ok) return;
      sent.push(d.message);
      if (d.message.type === 'answer') answers.set(d.message.id, d.message.probabilities as [number, number, number]);
    });
  });
  return { challenges, answers, sent };
}

/** The page's URL with runtime configuration in the query (what config.json would otherwise carry). */
export function minerUrl(
  base: string,
  o: {
    validators: string[];
    chain: string;
    netuid: number;
    backend?: 'auto' | 'webgpu' | 'wasm';
    bundle?: string;
    /** false for a validator without a chain: the page cannot check its permit and stake. */
    checkValidators?: boolean;
  },
): string {
  const q = new URLSearchParams();
  for (const v of o.validators) q.append('validator', v);
  q.set('chain', o.chain);
  q.set('netuid', String(o.netuid));
  if (o.backend) q.set('backend', o.backend);
  if (o.bundle) q.set('bundle', o.bundle);
  if (o.checkValidators === false) q.set('checkValidators', 'false');
  return `${base}?${q.toString()}`;
}
