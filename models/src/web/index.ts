/** Browser entry point (pages, workers, extension offscreen documents): the core plus onnxruntime-web. */
import { type LoadBundleOptions, loadBundle, type ProgressCallback, urlBundleSource } from '../core/bundle.js';
import { createDetector, type Detector, type DetectorOptions } from '../core/classify.js';
import { createWebSession, type WebSessionOptions } from './ort.js';

export { decodeBlob, pixelsOf } from './decode.js';
export * from '../index.js';
export { type BackendChoice, createWebSession, type WebBackend, type WebSessionOptions } from './ort.js';

export interface WebDetectorOptions extends DetectorOptions, WebSessionOptions, LoadBundleOptions {
  onProgress?: ProgressCallback;
}

/** Downloads (with progress), verifies, compiles and warms up the bundle at `bundleUrl`. */
export async function loadWebDetector(bundleUrl: string | URL, options: WebDetectorOptions = {}): Promise<Detector> {
  const bundle = await loadBundle(urlBundleSource(bundleUrl), options.onProgress, options);
  return createDetector(
    bundle,
    (model, onProgress) =>
      createWebSession(
        model,
        { ...options, inputName: bundle.manifest.input.name, outputName: bundle.manifest.input.output },
        onProgress,
      ),
    options.onProgress,
    options,
  );
}
