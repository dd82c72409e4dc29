// What makes a package store-ready, as pure checks on its files (the packaging script and its test share them).

/**
 * Chrome's manifest `version` is 1-4 dot-separated integers; a pre-release tag (1.2.0-beta.1) goes to
 * `version_name`, which the store shows instead.
 */
export function chromeVersion(version: string): { version: string; version_name?: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+](.+))?$/.exec(version.trim());
  if (!m) throw new Error(`package.json version ${JSON.stringify(version)} is not x.y.z[-tag]`);
  const plain = `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}`;
  return m[4] ? { version: plain, version_name: version.trim() } : { version: plain };
}

/** Files every package must have: the model, ONNX Runtime's one wasm binary, the icons. */
export const REQUIRED_FILES = [
  'manifest.json',
  'bundle/manifest.json',
  'bundle/model.onnx',
  'ort/ort-wasm-simd-threaded.jsep.wasm',
  'icons/icon-16.png',
  'icons/icon-48.png',
  'icons/icon-128.png',
];

/** Loading code from elsewhere: remote script tags, import()/import from a URL, importScripts of a URL. */
const REMOTE_CODE = [
  /<script[^>]+src\s*=\s*["']?(https?:)?\/\//i,
  /\bimport\s*\(\s*["'`](https?:)?\/\//,
  /\bfrom\s*["'](https?:)?\/\//,
  /\bimportScripts\s*\(\s*["'`](https?:)?\/\//,
];

/** Every reason `files` (path -> bytes) is not a package to upload, for version `version`; empty when it is. */
export function storeProblems(files: ReadonlyMap<string, Uint8Array>, version: string): string[] {
  const problems: string[] = [];
  for (const f of REQUIRED_FILES) if (!files.has(f)) problems.push(`${f} is missing`);
  const raw = files.get('manifest.json');
  if (!raw) return problems;
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(Buffer.from(raw).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    return [...problems, `manifest.json is not JSON: ${String(e)}`];
  }
  if (manifest.manifest_version !== 3) problems.push('manifest_version is not 3');
  const want = chromeVersion(version);
  if (manifest.version !== want.version) problems.push(`manifest version ${String(manifest.version)}, expected ${want.version}`);
  if (manifest.web_accessible_resources !== undefined)
    problems.push('web_accessible_resources: pages could probe for the extension');
  const csp = (manifest.content_security_policy as { extension_pages?: string } | undefined)?.extension_pages ?? '';
  if (!/script-src 'self'( 'wasm-unsafe-eval')?;/.test(csp)) problems.push(`CSP allows scripts from elsewhere: ${csp}`);
  const referenced = [
    (manifest.background as { service_worker?: string } | undefined)?.service_worker,
    ...((manifest.content_scripts as Array<{ js?: string[] }> | undefined) ?? []).flatMap((c) => c.js ?? []),
    (manifest.action as { default_popup?: string } | undefined)?.default_popup,
    manifest.options_page as string | undefined,
    ...Object.values((manifest.icons as Record<string, string> | undefined) ?? {}),
  ].filter((f): f is string => typeof f === 'string');
  for (const f of referenced) if (!files.has(f)) problems.push(`manifest names ${f}, which is not in the package`);
  for (const [name, bytes] of files) {
    if (name.endsWith('.map')) problems.push(`${name}: source maps are not shipped`);
    if (!/\.(m?js|html)$/.test(name)) continue;
    const text = Buffer.from(bytes).toString('utf8');
    if (/\/\/# sourceMappingURL=/.test(text)) problems.push(`${name} points to a source map`);
    for (const pattern of REMOTE_CODE) if (pattern.test(text)) problems.push(`${name} loads remote code (${pattern.source})`);
  }
  return problems;
}
