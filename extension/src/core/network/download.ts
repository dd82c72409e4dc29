/**
 * Downloading a published bundle and proving it is the one committed on chain, before anything is stored or run.
 * The fetching is the extension's: every request without credentials, referrer or cache, each body read under a cap
 * (whatever the server claims), with progress over the whole bundle. The checks are the runtime's one bundle verifier,
 * loadBundle from @veracity/models, the same that checks the bundled model and a stored one read back: the manifest
 * against the schema (hand-written checks, no ajv code generation, which MV3's CSP forbids), the whole bundle within
 * MAX_BUNDLE_BYTES before the model is fetched, the model's size and sha256 against the manifest. Added here: the
 * manifest's own sha256 must be the commitment's (bundleDigest), checked before anything else is fetched. Its codes
 * become the extension's E_BUNDLE_* codes. Platform-free: `fetch` is passed in.
 */
import { type Bundle, type BundleSource, concatBytes, ErrorCode, isVeracityError, loadBundle } from '@veracity/models';
import { bundleDigest, bundleFileUrl, MAX_BUNDLE_BYTES, type ModelCommitment } from '@veracity/protocol/model-commitment';
import { ExtensionError, ExtensionErrorCode, messageOf } from '../errors.js';

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

export interface DownloadProgress {
  /** 'manifest', then 'download' as the model arrives, then 'verify'. */
  stage: 'manifest' | 'download' | 'verify';
  file?: string;
  /** Bytes of the whole bundle so far, and in all (known once the manifest is read). */
  loaded: number;
  total?: number;
}

/** The request every bundle download makes: no cookies or HTTP auth, no referrer, no HTTP cache either way. */
export const BUNDLE_FETCH_INIT: RequestInit = {
  credentials: 'omit',
  referrerPolicy: 'no-referrer',
  cache: 'no-store',
  redirect: 'error',
};

async function get(fetchImpl: Fetcher, url: string, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(url, { ...BUNDLE_FETCH_INIT, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new ExtensionError(ExtensionErrorCode.BundleDownload, `cannot download ${url}: ${messageOf(e)}`);
  }
  if (!res.ok) throw new ExtensionError(ExtensionErrorCode.BundleDownload, `${url} answered HTTP ${res.status}`);
  return res;
}

/** Reads a body, refusing (and cancelling) it once it passes `cap` bytes: a server cannot make the extension read more. */
async function readCapped(res: Response, url: string, cap: number, onBytes: (n: number) => void): Promise<Uint8Array> {
  const tooLarge = (n: number | string) =>
    new ExtensionError(ExtensionErrorCode.BundleTooLarge, `${url} sends ${n} bytes; at most ${cap} may come from it`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > cap) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(declared);
  }
  if (!res.body) {
    const all = new Uint8Array(await res.arrayBuffer());
    if (all.length > cap) throw tooLarge(all.length);
    onBytes(all.length);
    return all;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.length;
      if (loaded > cap) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(`more than ${cap}`);
      }
      chunks.push(value);
      onBytes(value.length);
    }
  } catch (e) {
    if (e instanceof ExtensionError) throw e;
    throw new ExtensionError(ExtensionErrorCode.BundleDownload, `download of ${url} broke off: ${messageOf(e)}`);
  }
  return concatBytes(chunks, loaded);
}

/** The runtime's codes for a bundle it refuses, as the network model's (the same refusals, named for the user). */
const FROM_RUNTIME: Partial<Record<string, ExtensionErrorCode>> = {
  [ErrorCode.ManifestInvalid]: ExtensionErrorCode.BundleManifest,
  [ErrorCode.BundleTooLarge]: ExtensionErrorCode.BundleTooLarge,
  [ErrorCode.Sha256Mismatch]: ExtensionErrorCode.BundleFileSha256,
};

function asExtensionError(e: unknown): unknown {
  if (!isVeracityError(e) || !FROM_RUNTIME[e.code]) return e;
  return new ExtensionError(FROM_RUNTIME[e.code]!, e.message.slice(e.code.length + 2), { cause: e });
}

export interface DownloadOptions {
  fetch: Fetcher;
  onProgress?: (p: DownloadProgress) => void;
  /** Per request (default 60 s). */
  timeoutMs?: number;
}

/**
 * Downloads and verifies the bundle a commitment names; throws E_BUNDLE_* and stores nothing on any failure. A
 * manifest other than the committed one stops the download before its model is fetched.
 */
export async function downloadVerifiedBundle(
  commitment: Pick<ModelCommitment, 'sha256' | 'url'>,
  options: DownloadOptions,
): Promise<Bundle> {
  const progress = options.onProgress ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 60_000;
  let loaded = 0;
  let at: { file: string; total: number } | undefined;
  const source: BundleSource = {
    location: commitment.url,
    async readManifest(maxBytes) {
      const url = bundleFileUrl(commitment.url, 'manifest.json');
      const bytes = await readCapped(await get(options.fetch, url, timeoutMs), url, maxBytes, (n) => {
        loaded += n;
      });
      const digest = bundleDigest(bytes);
      if (digest !== commitment.sha256) {
        throw new ExtensionError(
          ExtensionErrorCode.BundleDigest,
          `${url} has sha256 ${digest}, the chain commitment says ${commitment.sha256}: not the published bundle`,
        );
      }
      return bytes;
    },
    async readModel(file, expectedBytes) {
      // loadBundle asks only after the manifest passed the schema and the bundle fits MAX_BUNDLE_BYTES.
      at = { file, total: loaded + expectedBytes };
      const url = bundleFileUrl(commitment.url, file);
      progress({ stage: 'download', loaded, ...at });
      // The manifest said how big the file is: a server sending more is refused at that byte, not at the bundle cap.
      return readCapped(await get(options.fetch, url, timeoutMs), url, expectedBytes, (n) => {
        loaded += n;
        progress({ stage: 'download', loaded, ...at });
      });
    },
  };
  try {
    return await loadBundle(
      source,
      (p) => {
        if (p.stage === 'manifest' || p.stage === 'verify') progress({ stage: p.stage, loaded, ...at });
      },
      { maxBytes: MAX_BUNDLE_BYTES },
    );
  } catch (e) {
    throw asExtensionError(e);
  }
}
