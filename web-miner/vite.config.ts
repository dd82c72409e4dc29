import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
// Relative, not the package export: Vite bundles a config's relative imports but loads node_modules ones as is (.ts).
import { veracityOrt } from '../models/build/vite-plugin-ort.js';
import { defineConfig, type Plugin } from 'vite';

const BUNDLE = fileURLToPath(new URL('../models/bundle/', import.meta.url));

/** Ships the model bundle (manifest + model file, sha256-checked by the page) at dist/bundle/. */
function modelBundle(): Plugin {
  return {
    name: 'veracity-model-bundle',
    apply: 'build',
    generateBundle() {
      const manifest = readFileSync(`${BUNDLE}manifest.json`);
      const file = (JSON.parse(manifest.toString()) as { model: { file: string } }).model.file;
      this.emitFile({ type: 'asset', fileName: 'bundle/manifest.json', source: manifest });
      this.emitFile({ type: 'asset', fileName: `bundle/${file}`, source: readFileSync(`${BUNDLE}${file}`) });
    },
  };
}

// Relative base: dist/ is plain static files that work from any host and any sub-path.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  plugins: [preact(), veracityOrt(), modelBundle()],
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
});
