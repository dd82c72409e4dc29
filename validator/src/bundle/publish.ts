/**
 * Publishing a bundle, the one path for veracity-bundle publish, npm start and the tests: check the bundle, check
 * that its URL serves this very bundle, write the commitment, wait for inclusion, read it back.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { bundleDigest, bundleFileUrl, type ModelCommitment, modelCommitmentProblem } from '@veracity/protocol';
import { BundleCheckError, type CheckedBundle, checkBundle, checkBundleFiles } from './check.js';
import { isRegistered, publishModel, type Published, readModelCommitment } from './commitments.js';

export const PublishCode = {
  /** The URL cannot go on chain (not http(s), too long, credentials). */
  BadUrl: 'E_BAD_URL',
  /** Nothing (or an HTTP error) answered at the URL's manifest.json. */
  UrlUnreachable: 'E_URL_UNREACHABLE',
  /** The URL serves a manifest.json whose digest is not this bundle's. */
  UrlMismatch: 'E_URL_MISMATCH',
  /** The hotkey is not registered on the subnet: the chain would refuse the commitment. */
  NotRegistered: 'E_NOT_REGISTERED',
} as const;

export class PublishError extends Error {
  override name = 'PublishError';
  constructor(
    readonly code: (typeof PublishCode)[keyof typeof PublishCode],
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${code}: ${problem}`);
  }
}

/** Fetches `<url>/manifest.json` and checks it is this bundle's (same digest): a URL that serves something else is
 * not published. */
export async function verifyBundleUrl(
  url: string,
  sha256: string,
  opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<void> {
  const target = bundleFileUrl(url, 'manifest.json');
  let bytes: Uint8Array;
  try {
    const res = await (opts.fetch ?? fetch)(target, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new PublishError(
      PublishCode.UrlUnreachable,
      `cannot fetch ${target}: ${e instanceof Error ? e.message : String(e)}`,
      'serve the bundle there first (veracity-bundle serve --bundle DIR), or pass --no-check-url if it goes up later',
    );
  }
  const served = bundleDigest(bytes);
  if (served !== sha256)
    throw new PublishError(
      PublishCode.UrlMismatch,
      `${target} serves a manifest with sha256 ${served}, not this bundle's ${sha256}`,
      'upload this bundle folder to that URL (or point --url at where it is), then publish again',
    );
}

export interface PrepareOptions {
  dir: string;
  url: string;
  /** Fetch the URL's manifest.json and compare digests (default true). */
  checkUrl?: boolean;
  /** Run the test inference (default true; the file checks always run). */
  inference?: boolean;
  fetch?: typeof fetch;
  /** Each step as it starts, in plain words. */
  onStep?: (text: string) => void;
}

export interface PreparedBundle {
  bundle: CheckedBundle;
  commitment: ModelCommitment;
  probabilities?: [number, number, number];
}

/** Everything that needs no chain: the bundle checks, the commitment's own checks, the URL check. Throws
 * BundleCheckError or PublishError. */
export async function prepareBundle(o: PrepareOptions): Promise<PreparedBundle> {
  const step = o.onStep ?? (() => undefined);
  step(`checking ${o.dir}`);
  let bundle: CheckedBundle;
  let probabilities: [number, number, number] | undefined;
  if (o.inference === false) bundle = await checkBundleFiles(o.dir);
  else ({ probabilities, ...bundle } = await checkBundle(o.dir));
  const commitment: ModelCommitment = { sha256: bundle.sha256, version: bundle.manifest.version, url: o.url };
  const problem = modelCommitmentProblem(commitment);
  if (problem !== undefined) {
    // The version comes from the manifest: name it as the manifest's problem, with the manifest's fix.
    if (problem.startsWith('version'))
      throw new BundleCheckError(
        'E_MANIFEST_INVALID',
        `manifest.json ${problem}`,
        'set "version" in manifest.json to e.g. 1.0.0',
      );
    throw new PublishError(
      PublishCode.BadUrl,
      `--url ${o.url}: ${problem}`,
      'pass the http(s) URL of the bundle folder, e.g. https://example.org/my-bundle/',
    );
  }
  if (o.checkUrl !== false) {
    step(`checking that ${bundleFileUrl(o.url, 'manifest.json')} serves this bundle`);
    await verifyBundleUrl(o.url, bundle.sha256, { ...(o.fetch ? { fetch: o.fetch } : {}) });
  }
  return { bundle, commitment, ...(probabilities ? { probabilities } : {}) };
}

export type PublishedBundle = Published &
  PreparedBundle & {
    /** True when the chain already held this very record: nothing was written (no fee, no rate-limit slot used). */
    unchanged: boolean;
  };

/** Writes a prepared bundle's commitment under `signer`; throws PublishError (not registered), ChainTxError or
 * TransportError. */
export async function publishPrepared(
  api: ApiPromise,
  signer: KeyringPair,
  netuid: number,
  prepared: PreparedBundle,
  onStep: (text: string) => void = () => undefined,
): Promise<PublishedBundle> {
  if (!(await isRegistered(api, netuid, signer.address)))
    throw new PublishError(
      PublishCode.NotRegistered,
      `hotkey ${signer.address} is not registered on netuid ${netuid}`,
      'register it first (btcli subnet register), or check --netuid and the hotkey in VERACITY_MINER_URI',
    );
  const current = await readModelCommitment(api, netuid, signer.address);
  const c = prepared.commitment;
  if (current.ok && current.value.sha256 === c.sha256 && current.value.version === c.version && current.value.url === c.url)
    return { block: current.value.block ?? 0, readBack: current.value, ...prepared, unchanged: true };
  onStep(`writing the commitment under ${signer.address} on netuid ${netuid}`);
  return { ...(await publishModel(api, signer, netuid, c)), ...prepared, unchanged: false };
}

/** prepareBundle then publishPrepared: the whole publish, for callers that hold a chain connection already. */
export async function publishBundle(
  o: PrepareOptions & { api: ApiPromise; signer: KeyringPair; netuid: number },
): Promise<PublishedBundle> {
  return publishPrepared(o.api, o.signer, o.netuid, await prepareBundle(o), o.onStep);
}
