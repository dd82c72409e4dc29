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
  model: Uint8Array;
}

/** Where a bundle comes from: a URL in browsers, a folder or URL in Node. */
export interface BundleSource {
  readonly location: string;
  readManifest(): Promise<unknown>;
  readModel(file: string, expectedBytes: number, onBytes: (loaded: number) => void): Promise<Uint8Array>;
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
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A bundle served over HTTP(S) (or any URL `fetch` understands): `<base>/manifest.json` and the model file. */
export function urlBundleSource(base: string | URL, fetchImpl: typeof fetch = fetch): BundleSource {
  const root = new URL(String(base).endsWith('/') ? String(base) : `${String(base)}/`, globalThis.location?.href);
  const get = async (name: string): Promise<Response> => {
    const url = new URL(name, root);
    let res: Response;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      throw new VeracityError(ErrorCode.BundleFetch, `cannot fetch ${url.href}: ${messageOf(e)}`, { cause: e });
    }
    if (!res.ok) throw new VeracityError(ErrorCode.BundleFetch, `${url.href} answered HTTP ${res.status}`);
    return res;
  };
  return {
    location: root.href,
    async readManifest() {
      const res = await get('manifest.json');
      try {
        return await res.json();
      } catch (e) {
        throw new VeracityError(ErrorCode.ManifestInvalid, `manifest.json at ${root.href} is not JSON: ${messageOf(e)}`);
      }
    },
    async readModel(file, expectedBytes, onBytes) {
      const res = await get(file);
      if (!res.body) return new Uint8Array(await res.arrayBuffer());
      return readStream(res.body, expectedBytes, onBytes);
    },
  };
}

/** Fetches, validates and verifies a bundle. Nothing is returned unless the sha256 matches the manifest. */
export async function loadBundle(source: BundleSource, onProgress: ProgressCallback = () => {}): Promise<Bundle> {
  onProgress({ stage: 'manifest' });
  const manifest = parseManifest(await source.readManifest());
  const total = manifest.model.bytes;
  onProgress({ stage: 'download', loaded: 0, total });
  const model = await source.readModel(manifest.model.file, total, (loaded) => onProgress({ stage: 'download', loaded, total }));
  onProgress({ stage: 'verify' });
  await verifyModelBytes(manifest, model);
  return { manifest, model };
}
