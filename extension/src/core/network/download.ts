/**
 * Downloading a published bundle and proving it is the one committed on chain, before anything is stored or run:
 * manifest.json's sha256 must equal the commitment (bundleDigest), the manifest must pass the bundle schema (the same
 * parseManifest the bundled manifest goes through: hand-written checks, no ajv code generation, which MV3's CSP
 * forbids), the whole bundle must fit MAX_BUNDLE_BYTES (checked from the manifest before the download and again on
 * every byte read, whatever the server claims), and each file must match the manifest's sha256 and size.
 * Platform-free: `fetch` is passed in; every request goes without credentials, referrer or cache.
 */
import { type Manifest, parseManifest, sha256Hex } from '@veracity/models';
import { bundleDigest, bundleFileUrl, MAX_BUNDLE_BYTES, type ModelCommitment } from '@veracity/protocol/model-commitment';
import { ExtensionError, ExtensionErrorCode, messageOf } from '../errors.js';

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

export interface DownloadProgress {
  /** 'manifest', then 'download' per file, then 'verify'. */
  stage: 'manifest' | 'download' | 'verify';
  file?: string;
  /** Bytes of the whole bundle so far, and in all (known once the manifest is read). */
  loaded: number;
  total?: number;
}

export interface VerifiedBundle {
  /** manifest.json exactly as served (its sha256 is the bundle's id). */
  manifestBytes: Uint8Array;
  manifest: Manifest;
  /** Every file the manifest names, verified. */
  files: Map<string, Uint8Array>;
}

/** The files a manifest names, with what each must be. A bundle holds one model file today. */
export function bundleFiles(manifest: Manifest): Array<{ file: string; sha256: string; bytes: number }> {
  return [{ file: manifest.model.file, sha256: manifest.model.sha256, bytes: manifest.model.bytes }];
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
    new ExtensionError(
      ExtensionErrorCode.BundleTooLarge,
      `${url} sends ${n} bytes; at most ${cap} may come from it (MAX_BUNDLE_BYTES ${MAX_BUNDLE_BYTES})`,
    );
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
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export interface DownloadOptions {
  fetch: Fetcher;
  onProgress?: (p: DownloadProgress) => void;
  /** Per request (default 60 s). */
  timeoutMs?: number;
}

/** Downloads and verifies the bundle a commitment names; throws E_BUNDLE_* and stores nothing on any failure. */
export async function downloadVerifiedBundle(
  commitment: Pick<ModelCommitment, 'sha256' | 'url'>,
  options: DownloadOptions,
): Promise<VerifiedBundle> {
  const progress = options.onProgress ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 60_000;
  let loaded = 0;
  progress({ stage: 'manifest', loaded });
  const manifestUrl = bundleFileUrl(commitment.url, 'manifest.json');
  const manifestBytes = await readCapped(await get(options.fetch, manifestUrl, timeoutMs), manifestUrl, MAX_BUNDLE_BYTES, (n) => {
    loaded += n;
  });
  const digest = bundleDigest(manifestBytes);
  if (digest !== commitment.sha256) {
    throw new ExtensionError(
      ExtensionErrorCode.BundleDigest,
      `${manifestUrl} has sha256 ${digest}, the chain commitment says ${commitment.sha256}: not the published bundle`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes)));
  } catch (e) {
    throw new ExtensionError(ExtensionErrorCode.BundleManifest, `${manifestUrl}: ${messageOf(e)}`);
  }
  const files = bundleFiles(manifest);
  const total = manifestBytes.length + files.reduce((s, f) => s + f.bytes, 0);
  if (total > MAX_BUNDLE_BYTES) {
    throw new ExtensionError(
      ExtensionErrorCode.BundleTooLarge,
      `the bundle weighs ${total} bytes; at most ${MAX_BUNDLE_BYTES} are downloaded`,
    );
  }
  const out = new Map<string, Uint8Array>();
  for (const f of files) {
    const url = bundleFileUrl(commitment.url, f.file);
    progress({ stage: 'download', file: f.file, loaded, total });
    // The manifest said how big the file is: a server sending more is refused at that byte, not at the bundle cap.
    const bytes = await readCapped(await get(options.fetch, url, timeoutMs), url, f.bytes, (n) => {
      loaded += n;
      progress({ stage: 'download', file: f.file, loaded, total });
    });
    progress({ stage: 'verify', file: f.file, loaded, total });
    const sha = await sha256Hex(bytes);
    if (bytes.length !== f.bytes || sha !== f.sha256) {
      throw new ExtensionError(
        ExtensionErrorCode.BundleFileSha256,
        `${url}: ${bytes.length} bytes with sha256 ${sha}; the manifest says ${f.bytes} bytes with sha256 ${f.sha256}`,
      );
    }
    out.set(f.file, bytes);
  }
  return { manifestBytes, manifest, files: out };
}
