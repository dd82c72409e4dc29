import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { veracityOrt } from '@veracity/models/vite-plugin-ort';
import { build } from 'vite';

export const HARNESS_SRC = fileURLToPath(new URL('../harness/', import.meta.url));
export const HARNESS_DIST = fileURLToPath(new URL('../.harness-dist/', import.meta.url));
export const FIXTURE_BUNDLE = fileURLToPath(new URL('../../models/fixtures/tiny/', import.meta.url));
export const DETECTOR_BUNDLE = fileURLToPath(new URL('../../models/bundle/', import.meta.url));

/** Builds the harness page with the same Vite + ORT plugin setup the web miner and extension use. */
export async function buildHarness(): Promise<string> {
  await build({
    root: HARNESS_SRC,
    base: './',
    logLevel: 'warn',
    configFile: false,
    plugins: [veracityOrt()],
    worker: { format: 'es' },
    build: { outDir: HARNESS_DIST, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048 },
  });
  if (!existsSync(`${HARNESS_DIST}ort/ort-wasm-simd-threaded.jsep.wasm`)) throw new Error('harness build lacks the ORT wasm');
  return HARNESS_DIST;
}
