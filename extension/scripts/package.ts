// `npm run package -w extension`: a store-ready zip of the extension, versioned from the root package.json.
// Builds into a temporary folder (extension/dist, which tests and `npm start` use, is left alone), checks the result
// (storeProblems: version, the ORT wasm, no source maps, no remote code, nothing web-accessible) and writes
// extension/release/veracity-extension-VERSION.zip (or --out DIR). A failed check prints one line per problem, exit 2.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { storeProblems } from './store.js';
import { writeZip } from './zip.js';

const EXTENSION = fileURLToPath(new URL('..', import.meta.url));
const ROOT_PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));

function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p).split('\\').join('/'), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export async function packageExtension(outDir: string): Promise<{ zip: string; version: string; files: number; bytes: number }> {
  const version = (JSON.parse(readFileSync(ROOT_PACKAGE, 'utf8')) as { version: string }).version;
  const staging = mkdtempSync(join(tmpdir(), 'veracity-package-'));
  try {
    await build({
      configFile: join(EXTENSION, 'vite.config.ts'),
      root: EXTENSION,
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true, sourcemap: false },
    });
    const files = filesUnder(staging);
    const problems = storeProblems(files, version);
    if (problems.length > 0) {
      throw Object.assign(new Error(`the package is not store-ready:\n${problems.map((p) => `  - ${p}`).join('\n')}`), {
        exitCode: 2,
      });
    }
    const zip = writeZip(files);
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, `veracity-extension-${version}.zip`);
    writeFileSync(path, zip);
    return { zip: path, version, files: files.size, bytes: zip.length };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(
      'npm run package -w extension [-- --out DIR]   writes DIR/veracity-extension-VERSION.zip (default extension/release)',
    );
    process.exit(0);
  }
  try {
    const r = await packageExtension(values.out ?? join(EXTENSION, 'release'));
    console.log(`${r.zip}: version ${r.version}, ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit((e as { exitCode?: number }).exitCode ?? 1);
  }
}
