import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crx } from '@crxjs/vite-plugin';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';
// Relative, not the package export: Vite bundles a config's relative imports but loads node_modules ones as is (.ts).
import { veracityOrt } from '../models/build/vite-plugin-ort.js';
import manifest from './manifest.config.js';

const BUNDLE = fileURLToPath(new URL('../models/bundle/', import.meta.url));

/** Copies the model bundle (manifest + model, sha256-checked at load) into dist/bundle/ at build time. */
function modelBundle(): Plugin {
  return {
    name: 'veracity-model-bundle',
    apply: 'build',
    generateBundle() {
      const json = readFileSync(`${BUNDLE}manifest.json`);
      const file = (JSON.parse(json.toString()) as { model: { file: string } }).model.file;
      this.emitFile({ type: 'asset', fileName: 'bundle/manifest.json', source: json });
      this.emitFile({ type: 'asset', fileName: `bundle/${file}`, source: readFileSync(`${BUNDLE}${file}`) });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  plugins: [
    preact(),
    // The content script as one self-contained classic script: crxjs's default (a loader that import()s chunks)
    // needs those chunks web-accessible, and any page could then fetch them to tell that Veracity is installed.
    crx({ manifest, contentScripts: { standaloneFiles: ['src/content/index.ts'] } }),
    veracityOrt(),
    modelBundle(),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // The offscreen document is not named in manifest.json, so crxjs does not find it by itself.
    rollupOptions: { input: { offscreen: 'src/offscreen/index.html' } },
  },
});
