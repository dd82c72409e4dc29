// Network bundles kept on this device: Cache Storage of the extension's origin (the offscreen document and every
// extension page share it; web pages cannot reach it). One bundle is kept, the one in use: a switch stores the new
// bundle, then drops the others. Reading back checks the manifest's digest again, and loadBundle checks the model
// file against the manifest, so a bundle changed on disk is never run.
import type { Bundle, BundleSource } from '@veracity/models';
import { bundleDigest } from '@veracity/protocol/model-commitment';
import { ExtensionError, ExtensionErrorCode, messageOf } from '../core/errors.js';

const CACHE = 'veracity-network-bundles';
// Cache Storage keys must be http(s) URLs; this one is never fetched (.invalid cannot resolve).
const keyOf = (bundle: string, file: string) => `https://bundle.invalid/${bundle}/${encodeURIComponent(file)}`;

function storeError(what: string, e: unknown): ExtensionError {
  return new ExtensionError(ExtensionErrorCode.BundleStore, `${what}: ${messageOf(e)}`);
}

/** Stores a bundle downloadVerifiedBundle verified, under its id (the manifest's sha256). */
export async function storeBundle(bundle: string, verified: Bundle): Promise<void> {
  try {
    const cache = await caches.open(CACHE);
    await cache.put(keyOf(bundle, verified.manifest.model.file), new Response(verified.model as BufferSource));
    // The manifest last: its presence says the bundle is complete.
    await cache.put(keyOf(bundle, 'manifest.json'), new Response(verified.manifestBytes as BufferSource));
  } catch (e) {
    throw storeError('cannot store the bundle on this device', e);
  }
}

export async function hasBundle(bundle: string): Promise<boolean> {
  try {
    return (await (await caches.open(CACHE)).match(keyOf(bundle, 'manifest.json'))) !== undefined;
  } catch {
    return false;
  }
}

/** Drops every stored bundle but `keep`. */
export async function pruneBundles(keep: string): Promise<void> {
  const cache = await caches.open(CACHE);
  for (const req of await cache.keys()) if (!req.url.startsWith(`https://bundle.invalid/${keep}/`)) await cache.delete(req);
}

/** A stored bundle as a BundleSource for loadBundle (which verifies the model file against the manifest). */
export function storedBundleSource(bundle: string): BundleSource {
  const read = async (file: string): Promise<Uint8Array> => {
    const res = await (await caches.open(CACHE)).match(keyOf(bundle, file));
    if (!res)
      throw new ExtensionError(
        ExtensionErrorCode.BundleStore,
        `${file} of bundle ${bundle.slice(0, 12)} is not stored on this device`,
      );
    return new Uint8Array(await res.arrayBuffer());
  };
  return {
    location: `network bundle ${bundle}`,
    async readManifest() {
      const bytes = await read('manifest.json');
      if (bundleDigest(bytes) !== bundle) {
        throw new ExtensionError(
          ExtensionErrorCode.BundleDigest,
          `the stored manifest of ${bundle.slice(0, 12)} changed on this device`,
        );
      }
      // The bytes themselves: loadBundle parses and schema-checks them (E_MANIFEST_INVALID) and keeps them.
      return bytes;
    },
    async readModel(file, _expected, onBytes) {
      const bytes = await read(file);
      onBytes(bytes.length);
      return bytes;
    },
  };
}
