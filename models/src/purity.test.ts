import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// models/src is layered by folder: core/ is the runtime every platform shares (the extension, the browser miner's
// Web Worker and the Node validator all import it), eval/ and the dataset parsers are pure too; node/ and web/ are
// the platform adapters. Pure code must not reach for Node built-ins, onnxruntime, sharp, the DOM or chrome.*, so it
// runs and is tested anywhere.
const src = new URL('./', import.meta.url);
const sources = (dir: string) =>
  readdirSync(new URL(`${dir}/`, src))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`);
const read = (file: string) => readFileSync(new URL(file, src), 'utf8');
// comments may name what the code must not use ("no chrome.*"); only code counts
const withoutComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const importsOf = (code: string) => [...code.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] as string);

// dataset/download.ts is the dataset downloader's Node adapter (files, hashes); the rest of dataset/ is pure.
const NODE_ADAPTERS = new Set(['dataset/download.ts']);
// The domain vocabulary (labels, P(AI), modalities, frame aggregation) is defined once in @veracity/protocol/domain,
// which imports nothing, and where a published bundle's files are (bundleFileUrl) once in
// @veracity/protocol/model-commitment (pure JS hashing and encoding); protocol's own purity test holds both pure.
// These are the imports from outside allowed here.
const PROTOCOL = new Set(['@veracity/protocol/domain', '@veracity/protocol/model-commitment']);

const pure = ['index.ts', ...sources('core'), ...sources('eval'), ...sources('dataset')].filter((f) => !NODE_ADAPTERS.has(f));

describe('models/src layering', () => {
  it.each(pure)('%s is pure: relative imports (and the pure protocol modules) only, no Node, DOM or chrome.* globals', (file) => {
    const code = read(file);
    for (const spec of importsOf(code)) if (!PROTOCOL.has(spec)) expect(spec, `${file} imports ${spec}`).toMatch(/^\.\.?\//);
    expect(withoutComments(code)).not.toMatch(
      /\bBuffer\.|\bprocess\.|\brequire\(|\bdocument\.|\bwindow\.|\bchrome\.|\beval\(|new Function\(/,
    );
  });

  it.each([...sources('core'), ...sources('eval')])('%s imports nothing outside its own folder but core/', (file) => {
    const own = file.split('/')[0];
    for (const spec of importsOf(read(file))) {
      if (PROTOCOL.has(spec)) continue;
      expect(spec, `${file} imports ${spec}`).toMatch(own === 'core' ? /^\.\/[^/]+$/ : /^\.\/[^/]+$|^\.\.\/core\//);
    }
  });

  it.each([...sources('node'), ...sources('web')])('%s does not import the other platform', (file) => {
    const other = file.startsWith('node/') ? 'web' : 'node';
    for (const spec of importsOf(read(file)))
      expect(spec, `${file} imports ${spec}`).not.toMatch(new RegExp(`^\\.\\./${other}/`));
    if (file.startsWith('web/')) expect(read(file)).not.toMatch(/from 'node:|from 'onnxruntime-node'|from 'sharp'/);
  });

  it('covers every folder of models/src', () => {
    const dirs = readdirSync(src, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(dirs.sort()).toEqual(['core', 'dataset', 'eval', 'node', 'web']);
  });
});
