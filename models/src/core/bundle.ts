import { bundleFileUrl } from '@veracity/protocol/model-commitment';
import { ErrorCode, messageOf, VeracityError } from './errors.js';
import { type Manifest, parseManifest, verifyModelBytes } from './manifest.js';

export type LoadStage = 'manifest' | 'download' | 'verify' | 'compile' | 'warmup' | 'ready';

export interface LoadProgress {
  stage: LoadStage;
  /** Bytes so far and in all, during 'download'. */
  loaded?: number;
  total?: number;
  /** Which backend is compiling or warming up. */
  backend?: string;
}
export type ProgressCallback = (progress: LoadProgress) => void;

export interface Bundle {
  manifest: Manifest;
  /**
   * manifest.json exactly as read: the bundle's id is the sha256 of these bytes (bundleDigest in @veracity/protocol),
   * which miners declare and the chain stores, so they are kept, not re-serialised.
   */
  manifestBytes: Uint8Array;
  model: Uint8Array;
}

/** Where a bundle comes from: a URL in browsers, a folder or URL in Node. */
export interface BundleSource {
  readonly location: string;
  /** manifest.json's bytes; more than `maxBytes` is refused with E_BUNDLE_TOO_LARGE without reading the rest. */
  readManifest(maxBytes: number): Promise<Uint8Array>;
  readModel(file: string, expectedBytes: number, onBytes: (loaded: number) => void): Promise<Uint8Array>;
}

/** A manifest is a few kB (the shipped one 45 kB); anything near this is not one. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface LoadBundleOptions {
  /**
   * Most bytes the whole bundle (manifest.json + model) may weigh: checked on the manifest's own size and the model
   * size it declares before the model is fetched, so an oversized bundle costs one small download. Published bundles
   * use MAX_BUNDLE_BYTES from @veracity/protocol; default: no cap beyond the manifest's.
   */
  maxBytes?: number;
}

/** E_BUNDLE_TOO_LARGE for a file of `bytes` (or more) against a cap of `max`. */
export function bundleTooLarge(what: string, bytes: number, max: number): VeracityError {
  return new VeracityError(
    ErrorCode.BundleTooLarge,
    `${what} is ${bytes} bytes or more; at most ${max} bytes are accepted (${(max / 1048576).toFixed(0)} MiB)`,
    { details: { bytes, max } },
  );
}

/** Reads a stream to the end, reporting bytes as they arrive. */
export async function readStream(
  stream: ReadableStream<Uint8Array>,
  expectedBytes: number,
  onBytes: (loaded: number) => void,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    // A server sending more than the manifest promised is not the published model: stop reading at once.
    if (loaded > expectedBytes) {
      await reader.cancel();
      break;
    }
    onBytes(loaded);
  }
  return concatBytes(chunks, loaded);
}

/** The chunks a stream delivered as one array of `total` bytes (their summed length). */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A bundle served over HTTP(S) (or any URL `fetch` understands): `<base>/manifest.json` and the model file. */
export function urlBundleSource(base: string | URL, fetchImpl: typeof fetch = fetch): BundleSource {
  // A relative base ('bundle/' in a page or extension) is resolved against the document first; the files' places
  // are then the same bundleFileUrl every downloader and the publish CLI use, trailing slash or not.
  const root = bundleFileUrl(new URL(base, globalThis.location?.href).href, '');
  const get = async (name: string): Promise<Response> => {
    const url = bundleFileUrl(root, name);
    let res: Response;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      throw new VeracityError(ErrorCode.BundleFetch, `cannot fetch ${url}: ${messageOf(e)}`, { cause: e });
    }
    if (!res.ok) throw new VeracityError(ErrorCode.BundleFetch, `${url} answered HTTP ${res.status}`);
    return res;
  };
  return {
    location: root,
    async readManifest(maxBytes) {
      const res = await get('manifest.json');
      const declared = Number(res.headers.get('content-length'));
      if (declared > maxBytes) throw bundleTooLarge(`${root}manifest.json`, declared, maxBytes);
      const bytes = res.body ? await readStream(res.body, maxBytes, () => {}) : new Uint8Array(await res.arrayBuffer());
      if (bytes.length > maxBytes) throw bundleTooLarge(`${root}manifest.json`, bytes.length, maxBytes);
      return bytes;
    },
    async readModel(file, expectedBytes, onBytes) {
      const res = await get(file);
      if (!res.body) return new Uint8Array(await res.arrayBuffer());
      return readStream(res.body, expectedBytes, onBytes);
    },
  };
}

/** manifest.json's bytes as the validated manifest, or E_MANIFEST_INVALID naming `where`. */
export function parseManifestBytes(bytes: Uint8Array, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new VeracityError(ErrorCode.ManifestInvalid, `${where} is not UTF-8 JSON: ${messageOf(e)}`);
  }
  return parseManifest(json);
}

/**
 * Fetches, validates and verifies a bundle: manifest.json (schema-checked, within the size cap), then the model file
 * it names, whose size and sha256 must be the manifest's. Nothing is returned unless every check passes.
 */
export async function loadBundle(
  source: BundleSource,
  onProgress: ProgressCallback = () => {},
  options: LoadBundleOptions = {},
): Promise<Bundle> {
  onProgress({ stage: 'manifest' });
  const max = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const manifestBytes = await source.readManifest(Math.min(MAX_MANIFEST_BYTES, max));
  const manifest = parseManifestBytes(manifestBytes, `manifest.json at ${source.location}`);
  const total = manifest.model.bytes;
  if (manifestBytes.length + total > max)
    throw bundleTooLarge(
      `the bundle at ${source.location} (manifest.json + ${manifest.model.file})`,
      manifestBytes.length + total,
      max,
    );
  onProgress({ stage: 'download', loaded: 0, total });
  const model = await source.readModel(manifest.model.file, total, (loaded) => onProgress({ stage: 'download', loaded, total }));
  onProgress({ stage: 'verify' });
  await verifyModelBytes(manifest, model);
  return { manifest, manifestBytes, model };
}
