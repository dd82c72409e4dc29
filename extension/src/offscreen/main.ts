// The offscreen document owns the ONNX Runtime session (WebGPU or WASM), the scoring queue (batching, dedupe by
// URL) and the result cache. It fetches cross-origin media itself (host permissions: no CORS tainting) and decodes
// it here, so the page's main thread never decodes or runs the model.
import { decodeBlob, type Detector, loadWebDetector, type RawImage, videoClipEvidence } from '@veracity/models/web';
import { ExtensionError, ExtensionErrorCode, messageOf } from '../core/errors.js';
import {
  type EngineStatus,
  isToOffscreen,
  partitionedKey,
  type Rect,
  type ScanRequest,
  type ScanResult,
} from '../core/messages.js';
import { ScoringQueue } from '../core/queue.js';
import { backendChoice, type BackendPreference } from '../core/settings.js';
import { type Probabilities, videoTrust } from '../core/verdict.js';
import { extensionUrl, onMessage } from '../platform.js';
import { cropScreenshot, thumbnail } from './pixels.js';

let engine: { preference: BackendPreference; detector: Promise<Detector> } | null = null;
let status: EngineStatus = { state: 'idle' };
/** Where the offscreen document's time goes, summed over every batch (the engine-status message reports it). */
const timing = { decode_ms: 0, classify_ms: 0, thumb_ms: 0 };

function detectorFor(preference: BackendPreference): Promise<Detector> {
  if (engine?.preference === preference) return engine.detector;
  const previous = engine?.detector;
  const detector = (async () => {
    await previous?.then((d) => d.dispose()).catch(() => undefined);
    status = { state: 'loading' };
    const d = await loadWebDetector(extensionUrl('bundle/'), {
      backends: backendChoice(preference),
      // Files inside the package, by full URL: no remote code, and no import() of a computed path.
      wasmPaths: {
        wasm: extensionUrl('ort/ort-wasm-simd-threaded.jsep.wasm'),
        mjs: extensionUrl('ort/ort-wasm-simd-threaded.jsep.mjs'),
      },
      maxBatch: 8,
    });
    status = {
      state: 'ready',
      backend: d.backend.name,
      ...(d.backend.adapter ? { adapter: `${d.backend.adapter.vendor} ${d.backend.adapter.architecture}`.trim() } : {}),
      ...(d.backend.fallbacks?.length ? { fallbacks: d.backend.fallbacks.map((f) => `${f.name}: ${f.error}`) } : {}),
    };
    return d;
  })();
  detector.catch((e: unknown) => {
    status = { state: 'failed', error: messageOf(e) };
    if (engine?.detector === detector) engine = null;
  });
  engine = { preference, detector };
  return detector;
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
}

const queue = new ScoringQueue<Job, ScanResult>({
  // Per top-level page origin: a result (or its timing: a cache hit answers at once) computed for one site must not
  // tell another site what the user saw there.
  keyOf: (job) => partitionedKey(job.partition, job.request.key),
  maxBatch: 8,
  cacheSize: 1000,
  cacheable: (job) => job.request.cache !== false,
  async process(jobs) {
    // A batch shares one preference: the newest (a settings change applies from the next batch on).
    const detector = await detectorFor(jobs[jobs.length - 1]!.preference);
    let t = performance.now();
    const decoded = await Promise.all(
      jobs.map((j) => decode(j.request).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))),
    );
    const images = decoded.filter((d): d is Decoded => !(d instanceof Error)).map((d) => d.image);
    timing.decode_ms += performance.now() - t;
    t = performance.now();
    const results = await detector.classifyImages(images);
    const trust = videoTrust(videoClipEvidence(detector.manifest));
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
        probabilities: r.probabilities as Probabilities,
        ai: r.ai,
        label: r.label,
        model: { id: detector.manifest.id, version: detector.manifest.version, sha256: detector.manifest.model.sha256 },
        sha256: d.sha256,
        backend: detector.backend.name,
        ms: r.ms,
        at: Date.now(),
        thumb: await thumbnail(d.image).catch(() => ''),
        ...(jobs[i]!.request.kind === 'video' ? { trust } : {}),
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
  return queue.submit({ request: message.request, preference: message.backend, partition: message.partition });
});
