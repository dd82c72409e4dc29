// The offscreen document owns the ONNX Runtime session (WebGPU or WASM), the scoring queue (batching, dedupe by
// URL) and the result cache. It fetches cross-origin media itself (host permissions: no CORS tainting) and decodes
// it here, so the page's main thread never decodes or runs the model.
import {
  type Bundle,
  createDetector,
  createWebSession,
  decodeBlob,
  type Detector,
  isThreshold,
  loadBundle,
  type RawImage,
  urlBundleSource,
  videoClipEvidence,
} from '@veracity/models/web';
import { ExtensionError, ExtensionErrorCode, messageOf } from '../core/errors.js';
import {
  type EngineStatus,
  isToOffscreen,
  type ModelInfo,
  type NetworkCheckResult,
  partitionedKey,
  type Rect,
  type ScanRequest,
  type ScanResult,
  type ToOffscreen,
} from '../core/messages.js';
import { readNetworkModel } from '../core/network/chain.js';
import { type DownloadProgress, downloadVerifiedBundle } from '../core/network/download.js';
import { withChain } from '../core/network/rpc.js';
import { judgeSelfTest, selfTestImages } from '../core/network/selftest.js';
import type { NetworkModelRef } from '../core/network/state.js';
import { ScoringQueue } from '../core/queue.js';
import { backendChoice, type BackendPreference } from '../core/settings.js';
import { videoTrust } from '../core/verdict.js';
import { type VideoSampling, videoSamplingOf } from '../core/video.js';
import { extensionUrl, onMessage, sendToExtension } from '../platform.js';
import { storedBundleSource, storeBundle, hasBundle, pruneBundles } from './bundle-store.js';
import { cropScreenshot, thumbnail } from './pixels.js';

/** 'bundled', or the network bundle's id (sha256 of its manifest). */
type BundleKey = string;
const BUNDLED: BundleKey = 'bundled';

let engine: { preference: BackendPreference; bundle: BundleKey; detector: Promise<Detector> } | null = null;
/** The network bundle each detector really runs (absent: the bundled model, e.g. after a stored bundle failed to load). */
const loadedFrom = new WeakMap<Detector, BundleKey>();
let status: EngineStatus = { state: 'idle' };
/** Where the offscreen document's time goes, summed over every batch (the engine-status message reports it). */
const timing = { decode_ms: 0, classify_ms: 0, thumb_ms: 0 };

/** Compiles a verified bundle into a detector on the preferred backend (ORT's files from inside the package). */
function compile(bundle: Bundle, preference: BackendPreference): Promise<Detector> {
  return createDetector(
    bundle,
    (model, onProgress) =>
      createWebSession(
        model,
        {
          backends: backendChoice(preference),
          // Files inside the package, by full URL: no remote code, and no import() of a computed path.
          wasmPaths: {
            wasm: extensionUrl('ort/ort-wasm-simd-threaded.jsep.wasm'),
            mjs: extensionUrl('ort/ort-wasm-simd-threaded.jsep.mjs'),
          },
          inputName: bundle.manifest.input.name,
          outputName: bundle.manifest.input.output,
        },
        onProgress,
      ),
    undefined,
    { maxBatch: 8 },
  );
}

function readyStatus(d: Detector, network: NetworkModelRef | null): EngineStatus {
  return {
    state: 'ready',
    backend: d.backend.name,
    ...(d.backend.adapter ? { adapter: `${d.backend.adapter.vendor} ${d.backend.adapter.architecture}`.trim() } : {}),
    ...(d.backend.fallbacks?.length ? { fallbacks: d.backend.fallbacks.map((f) => `${f.name}: ${f.error}`) } : {}),
    model: modelInfo(d, network),
  };
}

/**
 * The detector for a preference and a bundle: the network bundle stored on this device when `network` names one, the
 * bundled one otherwise. A stored bundle that cannot be loaded (cleared, changed on disk) falls back to the bundled
 * model with the reason in the engine status: scanning never stops for the network model.
 */
function detectorFor(preference: BackendPreference, network: NetworkModelRef | null): Promise<Detector> {
  const bundle = network?.bundle ?? BUNDLED;
  if (engine?.preference === preference && engine.bundle === bundle) return engine.detector;
  const previous = engine?.detector;
  const detector = (async () => {
    await previous?.then((d) => d.dispose()).catch(() => undefined);
    status = { state: 'loading' };
    let fallback = '';
    if (network) {
      try {
        const d = await compile(await loadBundle(storedBundleSource(network.bundle)), preference);
        loadedFrom.set(d, network.bundle);
        status = readyStatus(d, network);
        return d;
      } catch (e) {
        fallback = `network bundle ${network.version} not loaded, using the bundled model: ${messageOf(e)}`;
      }
    }
    const d = await compile(await loadBundle(urlBundleSource(extensionUrl('bundle/'))), preference);
    status = { ...readyStatus(d, null), ...(fallback ? { error: fallback } : {}) };
    return d;
  })();
  detector.catch((e: unknown) => {
    status = { state: 'failed', error: messageOf(e) };
    if (engine?.detector === detector) engine = null;
  });
  engine = { preference, bundle, detector };
  return detector;
}

/** What a result names as its model: a network one only when the detector really is that bundle. */
function modelInfo(d: Detector, network: NetworkModelRef | null): ModelInfo {
  const m = d.manifest;
  const info: ModelInfo = {
    id: m.id,
    version: m.version,
    sha256: m.model.sha256,
    ...(isThreshold(m.calibration.threshold) ? { threshold: m.calibration.threshold } : {}),
  };
  if (network && loadedFrom.get(d) === network.bundle) {
    info.network = { uid: network.uid, incentive: network.incentive, hotkey: network.hotkey, bundle: network.bundle };
  }
  return info;
}

/** Progress to the service worker (for the options page), at most every 200 ms and at each stage change. */
function progressReporter(): (p: DownloadProgress) => void {
  let last = 0;
  let stage = '';
  return (p) => {
    const now = performance.now();
    if (p.stage === stage && now - last < 200) return;
    last = now;
    stage = p.stage;
    void sendToExtension({ type: 'network-progress', progress: p }).catch(() => undefined);
  };
}

/**
 * A network check: read the chain, and if it names a bundle other than the one in use, download and verify it,
 * self-test it on a detector of its own, store it, and only then make it the engine. Any failure throws (with its
 * code) and leaves the engine as it was.
 */
async function networkCheck(m: Extract<ToOffscreen, { type: 'network-check' }>): Promise<NetworkCheckResult> {
  const read = await withChain(m.endpoint, { timeoutMs: 10_000 }, (reader) => readNetworkModel(reader, m.netuid));
  if (!read.pick.ok) throw new ExtensionError(ExtensionErrorCode.NoPublishedModel, `${read.pick.message} (subnet ${m.netuid})`);
  const pick = read.pick;
  const origin = {
    uid: pick.uid,
    hotkey: pick.hotkey,
    incentive: pick.incentive,
    url: pick.model.url,
    netuid: m.netuid,
    endpoint: m.endpoint,
  };
  if (m.active?.bundle === pick.model.sha256 && (await hasBundle(pick.model.sha256))) {
    return { outcome: 'kept', ref: { ...m.active, ...origin } };
  }
  const verified = await downloadVerifiedBundle(pick.model, {
    fetch: (url, init) => fetch(url, init),
    onProgress: progressReporter(),
  });
  // Verified as it was downloaded (loadBundle's checks): compiled as is, not checked twice.
  const candidate = await compile(verified, m.backend).catch((e: unknown) => {
    throw new ExtensionError(ExtensionErrorCode.BundleSelfTest, `the downloaded model does not load: ${messageOf(e)}`);
  });
  try {
    const images = selfTestImages();
    const batch = await candidate.classifyImages(images);
    const singles = [];
    for (const img of images) singles.push(await candidate.classifyImage(img));
    judgeSelfTest(
      batch.map((r) => r.probabilities),
      singles.map((r) => r.probabilities),
      images.length,
    );
    await storeBundle(pick.model.sha256, verified);
  } catch (e) {
    await candidate.dispose().catch(() => undefined);
    throw e;
  }
  const ref: NetworkModelRef = {
    ...origin,
    bundle: pick.model.sha256,
    id: verified.manifest.id,
    version: verified.manifest.version,
    modelSha256: verified.manifest.model.sha256,
    ...(isThreshold(verified.manifest.calibration.threshold) ? { threshold: verified.manifest.calibration.threshold } : {}),
    since: Date.now(),
  };
  // The switch: the tested detector becomes the engine; the one it replaces is released.
  const previous = engine?.detector;
  loadedFrom.set(candidate, ref.bundle);
  engine = { preference: m.backend, bundle: ref.bundle, detector: Promise.resolve(candidate) };
  status = readyStatus(candidate, ref);
  void previous?.then((d) => d.dispose()).catch(() => undefined);
  await pruneBundles(ref.bundle).catch(() => undefined);
  return { outcome: 'switched', ref };
}

/** The pixels to score and the sha256 of the bytes they came from (the verdict receipt names them by it). */
interface Decoded {
  image: RawImage;
  sha256: string;
}

async function sha256Of(bytes: ArrayBuffer | ArrayBufferView): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function decodeBytes(bytes: ArrayBuffer): Promise<Decoded> {
  const [image, sha256] = await Promise.all([decodeBlob(new Blob([bytes])), sha256Of(bytes)]);
  return { image, sha256 };
}

async function decode(request: ScanRequest): Promise<Decoded> {
  const source = request.source;
  switch (source.type) {
    case 'url': {
      let response: Response;
      try {
        // Without the user's cookies or HTTP auth: a page must not be able to make the extension fetch, as the
        // user, an image the page itself could not get (and then learn something about it from the badge).
        // force-cache serves only the extension's own earlier (credential-less) fetches: the HTTP cache is
        // partitioned by top-level site, so the copy the page loaded with its cookies is not one of them.
        response = await fetch(source.url, { cache: 'force-cache', credentials: 'omit', referrerPolicy: 'no-referrer' });
      } catch (e) {
        throw new ExtensionError(ExtensionErrorCode.MediaFetch, `cannot fetch ${source.url}: ${messageOf(e)}`);
      }
      // Refused, or sent to a login page (an HTML answer where the page got an image): what needs the user's login.
      const html = /^text\/html\b/i.test(response.headers.get('content-type') ?? '');
      if (response.status === 401 || response.status === 403 || (response.ok && html)) {
        throw new ExtensionError(
          ExtensionErrorCode.MediaNeedsLogin,
          `${source.url}: HTTP ${response.status}${html ? ' (a page, not an image)' : ''} without the user's cookies (not fetched as the user)`,
        );
      }
      if (!response.ok) throw new ExtensionError(ExtensionErrorCode.MediaFetch, `${source.url}: HTTP ${response.status}`);
      return decodeBytes(await response.arrayBuffer());
    }
    case 'pixels':
      return decodeBytes(await (await fetch(source.dataUrl)).arrayBuffer());
    case 'screenshot': {
      const image = cropScreenshot(await decodeBlob(await (await fetch(source.dataUrl)).blob()), source.rect as Rect, source.dpr);
      return { image, sha256: await sha256Of(image.data) };
    }
    case 'capture':
      throw new ExtensionError(ExtensionErrorCode.MessageInvalid, 'captures are taken by the service worker');
  }
}

interface Job {
  request: ScanRequest;
  preference: BackendPreference;
  partition: string;
  network: NetworkModelRef | null;
}

const queue = new ScoringQueue<Job, ScanResult>({
  // Per top-level page origin: a result (or its timing: a cache hit answers at once) computed for one site must not
  // tell another site what the user saw there.
  // And per bundle: after a switch, nothing is answered from what the previous model said.
  keyOf: (job) => partitionedKey(job.partition, `${job.network?.bundle ?? BUNDLED} ${job.request.key}`),
  maxBatch: 8,
  cacheSize: 1000,
  cacheable: (job) => job.request.cache !== false,
  async process(jobs) {
    // A batch shares one preference: the newest (a settings change applies from the next batch on).
    const last = jobs[jobs.length - 1]!;
    const detector = await detectorFor(last.preference, last.network);
    const model = modelInfo(detector, last.network);
    let t = performance.now();
    const decoded = await Promise.all(
      jobs.map((j) => decode(j.request).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))),
    );
    const images = decoded.filter((d): d is Decoded => !(d instanceof Error)).map((d) => d.image);
    timing.decode_ms += performance.now() - t;
    t = performance.now();
    const results = await detector.classifyImages(images);
    const trust = videoTrust(videoClipEvidence(detector.manifest));
    const video = videoSamplingOf(detector.manifest);
    timing.classify_ms += performance.now() - t;
    t = performance.now();
    let next = 0;
    const out: Array<ScanResult | Error> = [];
    for (const [i, d] of decoded.entries()) {
      if (d instanceof Error) {
        out.push(d);
        continue;
      }
      const r = results[next++]!;
      out.push({
        key: jobs[i]!.request.key,
        probabilities: r.probabilities,
        ai: r.ai,
        label: r.label,
        model,
        sha256: d.sha256,
        backend: detector.backend.name,
        ms: r.ms,
        at: Date.now(),
        thumb: await thumbnail(d.image).catch(() => ''),
        ...(jobs[i]!.request.kind === 'video' ? { trust, video } : {}),
      });
    }
    timing.thumb_ms += performance.now() - t;
    return out;
  },
});

onMessage((message) => {
  if (!isToOffscreen(message)) return undefined;
  if (message.type === 'status')
    return Promise.resolve({ ...status, queue: { ...queue.stats }, timing: { ...timing } } satisfies EngineStatus);
  if (message.type === 'network-check') return networkCheck(message);
  // From the model that scores the frames: its manifest says how many to take and how to combine them.
  if (message.type === 'video-sampling')
    return detectorFor(message.backend, message.network).then((d): VideoSampling => videoSamplingOf(d.manifest));
  return queue.submit({
    request: message.request,
    preference: message.backend,
    partition: message.partition,
    network: message.network,
  });
});
