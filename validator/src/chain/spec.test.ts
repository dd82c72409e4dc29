import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC, defaultSpec, loadRawSpec, resolveSpecFile, slotAligned, TIMESTAMP_NOW_KEY, u64LeHex } from './spec.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'veracity-spec-'));
const SPEC = JSON.stringify({ id: 'x', name: 'X', properties: {}, genesis: { raw: { top: { '0x3a636f6465': '0x00' } } } });
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('spec location', () => {
  it('defaults to ../shared/chain/aura-dev-raw-293.json next to the repo, overridable by VERACITY_CHAIN_SPEC', () => {
    expect(DEFAULT_SPEC.endsWith(join('shared', 'chain', 'aura-dev-raw-293.json'))).toBe(true);
    expect(defaultSpec({})).toBe(DEFAULT_SPEC);
    expect(defaultSpec({ VERACITY_CHAIN_SPEC: '/x/y.json' })).toBe('/x/y.json');
  });

  it('names the missing file and the variable to set', async () => {
    await expect(resolveSpecFile('/nonexistent/spec.json')).rejects.toThrow(/VERACITY_CHAIN_SPEC/);
  });

  it('downloads a URL once into the cache and checks its sha256', async () => {
    const cacheDir = tmp();
    let fetches = 0;
    const fetchImpl = (async () => {
      fetches++;
      return new Response(SPEC);
    }) as typeof fetch;
    const url = 'https://example.invalid/spec.json';
    const file = await resolveSpecFile(url, { cacheDir, sha256: sha(SPEC), fetchImpl });
    expect(readFileSync(file, 'utf8')).toBe(SPEC);
    expect(await resolveSpecFile(url, { cacheDir, sha256: sha(SPEC), fetchImpl })).toBe(file);
    expect(fetches).toBe(1);
    await expect(
      resolveSpecFile('https://example.invalid/other.json', { cacheDir, sha256: 'ab'.repeat(32), fetchImpl }),
    ).rejects.toThrow(/does not match/);
  });

  it('checks a local file against a sha256 when one is given', async () => {
    const file = join(tmp(), 'spec.json');
    writeFileSync(file, SPEC);
    expect(await resolveSpecFile(file, { sha256: sha(SPEC) })).toBe(file);
    await expect(resolveSpecFile(file, { sha256: '00'.repeat(32) })).rejects.toThrow(/does not match/);
  });

  it('refuses a spec that is not raw', () => {
    const file = join(tmp(), 'plain.json');
    writeFileSync(file, JSON.stringify({ id: 'x', name: 'X', genesis: { runtimeGenesis: {} } }));
    expect(() => loadRawSpec(file)).toThrow(/not a raw chain spec/);
  });
});

describe('genesis timestamp', () => {
  it('aligns to a slot boundary and encodes as u64 little-endian', () => {
    expect(slotAligned(1_700_000_123_456, 1000)).toBe(1_700_000_123_000);
    expect(slotAligned(12_000, 12_000)).toBe(12_000);
    expect(u64LeHex(1)).toBe('0x0100000000000000');
    // 1_700_000_123_000 = 0x18b_cfe7_4878, little-endian bytes 78 48 e7 cf 8b 01 00 00
    expect(u64LeHex(1_700_000_123_000)).toBe('0x7848e7cf8b010000');
    expect(TIMESTAMP_NOW_KEY).toHaveLength(2 + 64);
  });
});
