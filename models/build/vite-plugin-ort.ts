import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

/** The one ORT binary our runtime uses (the default entry's JSEP build: WebGPU + WASM). */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'] as const;

/**
 * Ships onnxruntime-web's wasm inside the build at a fixed path (`<dir>/ort-wasm-simd-threaded.jsep.wasm`) so pages
 * and extensions load it locally (MV3 forbids remote code) from a known URL, and drops the hashed copy Vite would
 * otherwise emit from ORT's `new URL(..., import.meta.url)` (28 MB of dead weight).
 */
export function veracityOrt(options: { dir?: string } = {}): Plugin {
  const dir = options.dir ?? 'ort';
  const require = createRequire(import.meta.url);
  // The package's exports hide package.json; its wasm subpath export resolves inside dist/.
  const dist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
  return {
    name: 'veracity-ort',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type === 'asset' && /ort-wasm-simd-threaded.*\.(wasm|mjs)$/.test(name) && !name.startsWith(`${dir}/`)) {
          delete bundle[name];
        }
      }
      for (const file of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: `${dir}/${file}`, source: readFileSync(join(dist, file)) });
      }
    },
  };
}
