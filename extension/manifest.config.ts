import { defineManifest } from '@crxjs/vite-plugin';
import root from '../package.json' with { type: 'json' };
import pkg from './package.json' with { type: 'json' };
import { chromeVersion } from './scripts/store.js';

export default defineManifest({
  manifest_version: 3,
  name: 'Veracity',
  // One version for the whole project: the root package.json's (what `npm run package` names the zip after).
  ...chromeVersion(root.version),
  description: pkg.description,
  // storage: settings; offscreen: the document that owns the model; contextMenus: "Check with Veracity";
  // alarms: the periodic check of the network model (only scheduled while the user has it on).
  permissions: ['storage', 'offscreen', 'contextMenus', 'alarms'],
  // Reading pixels across origins: fetching images from the extension, and capturing the tab for tainted video.
  host_permissions: ['<all_urls>'],
  background: { service_worker: 'src/background.ts', type: 'module' },
  content_scripts: [{ matches: ['http://*/*', 'https://*/*'], js: ['src/content/index.ts'], run_at: 'document_idle' }],
  icons: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png', 48: 'icons/icon-48.png', 128: 'icons/icon-128.png' },
  action: {
    default_popup: 'src/popup/index.html',
    default_title: 'Veracity',
    default_icon: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png' },
  },
  options_page: 'src/options/index.html',
  // ORT compiles its wasm: 'wasm-unsafe-eval' and nothing else; every script and the wasm ship inside the package.
  content_security_policy: { extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'" },
});
