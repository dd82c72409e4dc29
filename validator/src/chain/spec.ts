/**
 * Where the raw chain spec comes from: a file path (the default is the shared offline copy), or an http(s) URL
 * downloaded once into a cache file, checked against a sha256 when one is given.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (validator/src/chain/ is three levels down). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The spec used when nothing is configured: ../shared/chain/aura-dev-raw-293.json relative to the repo root. */
export const DEFAULT_SPEC = resolve(REPO_ROOT, '../shared/chain/aura-dev-raw-293.json');

/** The configured spec: `VERACITY_CHAIN_SPEC` (path or URL) or the default. */
export function defaultSpec(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.VERACITY_CHAIN_SPEC?.trim();
  return fromEnv ? fromEnv : DEFAULT_SPEC;
}

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

export interface RawSpec {
  id: string;
  name: string;
  properties: Record<string, unknown>;
  genesis: { raw: { top: Record<string, string> } };
  [extra: string]: unknown;
}

export interface ResolveSpecOptions {
  /** Expected sha256 (hex) of the spec file; checked for URLs (always) and files (when given). */
  sha256?: string;
  /** Download cache for URL specs (default: $XDG_CACHE_HOME or ~/.cache, then veracity/chain). */
  cacheDir?: string;
  fetchImpl?: typeof fetch;
}

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'veracity', 'chain');
}

/**
 * Turn a spec path or URL into a local file path. A URL is downloaded once into the cache (keyed by the URL's hash)
 * and re-used; with `sha256` the cached or downloaded bytes must match, or it throws (and a bad download is not kept).
 */
export async function resolveSpecFile(spec: string, opts: ResolveSpecOptions = {}): Promise<string> {
  const want = opts.sha256?.toLowerCase();
  if (!isUrl(spec)) {
    const path = resolve(spec);
    if (!existsSync(path)) {
      throw new Error(`chain spec not found: ${path} (set VERACITY_CHAIN_SPEC to a raw spec file or an http(s) URL to one)`);
    }
    if (want) checkHash(readFileSync(path), want, path);
    return path;
  }
  const dir = opts.cacheDir ?? defaultCacheDir();
  const file = join(dir, `${sha256Hex(spec).slice(0, 16)}.json`);
  if (existsSync(file)) {
    const bytes = readFileSync(file);
    if (!want || sha256Hex(bytes) === want) return file;
  }
  const res = await (opts.fetchImpl ?? fetch)(spec);
  if (!res.ok) throw new Error(`chain spec download failed: ${spec}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (want) checkHash(bytes, want, spec);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return file;
}

function checkHash(bytes: Uint8Array, want: string, what: string): void {
  const got = sha256Hex(bytes);
  if (got !== want) throw new Error(`chain spec ${what}: sha256 ${got} does not match the expected ${want}`);
}

/** Read and minimally check a raw spec (chopsticks needs `genesis.raw.top` with `:code`). */
export function loadRawSpec(file: string): RawSpec {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as RawSpec;
  const top = spec?.genesis?.raw?.top;
  if (!top || typeof top !== 'object') throw new Error(`${file} is not a raw chain spec (no genesis.raw.top)`);
  if (!top[CODE_KEY]) throw new Error(`${file} has no runtime code (:code) in genesis`);
  spec.properties ??= {};
  return spec;
}

/** Storage key of `:code`. */
export const CODE_KEY = '0x3a636f6465';
/** Storage key of `Timestamp.Now` (twox128("Timestamp") ++ twox128("Now")). */
export const TIMESTAMP_NOW_KEY = '0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb';

/** u64 little-endian hex, as SCALE encodes it. */
export function u64LeHex(n: bigint | number): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt(n));
  return `0x${buf.toString('hex')}`;
}

/** Largest multiple of `slotMs` not after `nowMs`: a timestamp that starts exactly on a slot boundary. */
export function slotAligned(nowMs: number, slotMs: number): number {
  if (!(slotMs > 0)) throw new Error(`bad slot duration ${slotMs}`);
  return Math.floor(nowMs / slotMs) * slotMs;
}
