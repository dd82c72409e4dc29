import { describe, expect, it } from 'vitest';
import {
  backendChoice,
  DEFAULT_SETTINGS,
  normalizeSite,
  readSettings,
  SETTINGS_FORMAT,
  setSiteEnabled,
  siteEnabled,
  storedSettings,
  validatePatch,
} from './settings.js';

describe('settings', () => {
  it("defaults: on everywhere, the model's operating point as threshold, auto backend, real items badged", () => {
    expect(readSettings(undefined)).toEqual({ ...DEFAULT_SETTINGS });
    expect(DEFAULT_SETTINGS.threshold).toBeNull();
  });

  it("the threshold: the user's own number in (0, 1), or null for the model's operating point", () => {
    expect(validatePatch({ threshold: null })).toEqual({ threshold: null });
    expect(validatePatch({ threshold: 0.5 })).toEqual({ threshold: 0.5 });
    for (const bad of [0, 1, -0.2, Number.NaN, '0.7', true]) {
      expect(() => validatePatch({ threshold: bad })).toThrow(/E_SETTINGS_INVALID: threshold must be .* or null/);
    }
  });

  it('a chosen threshold survives storage; the 0.5 older versions stored as their default does not', () => {
    const chosen = { ...DEFAULT_SETTINGS, threshold: 0.5 };
    expect(storedSettings(chosen)).toMatchObject({ threshold: 0.5, format: SETTINGS_FORMAT });
    expect(readSettings(storedSettings(chosen)).threshold).toBe(0.5);
    expect(readSettings(storedSettings({ ...DEFAULT_SETTINGS })).threshold).toBeNull();
    // Written by a version before operating points: every setting stored, threshold always a number.
    const older = { enabled: false, threshold: 0.5, backend: 'wasm', allowSites: [], blockSites: [], badgeReal: true };
    expect(readSettings(older)).toMatchObject({ enabled: false, threshold: null, backend: 'wasm' });
    expect(readSettings({ ...older, threshold: 0.7 }).threshold).toBe(0.7);
    expect(readSettings(storedSettings(readSettings(older)))).toEqual(readSettings(older));
  });

  it('normalizes sites from URLs and hostnames, refusing junk with a stable code', () => {
    expect(normalizeSite('https://News.Example.com/a?b')).toBe('news.example.com');
    expect(normalizeSite('*.example.com')).toBe('example.com');
    expect(normalizeSite('127.0.0.1')).toBe('127.0.0.1');
    expect(() => normalizeSite('not a host')).toThrow(/E_SETTINGS_INVALID/);
    expect(() => normalizeSite('')).toThrow(expect.objectContaining({ code: 'E_SETTINGS_INVALID' }));
  });

  it('a site entry covers its subdomains; block wins over allow; lists win over the global switch', () => {
    const s = { ...DEFAULT_SETTINGS, enabled: false, allowSites: ['example.com'], blockSites: ['ads.example.com'] };
    expect(siteEnabled(s, 'example.com')).toBe(true);
    expect(siteEnabled(s, 'img.example.com')).toBe(true);
    expect(siteEnabled(s, 'ads.example.com')).toBe(false);
    expect(siteEnabled(s, 'badexample.com')).toBe(false);
    expect(siteEnabled({ ...s, enabled: true }, 'other.org')).toBe(true);
  });

  it('the per-site switch records one explicit choice and drops the contradicting one', () => {
    let s = setSiteEnabled({ ...DEFAULT_SETTINGS }, 'Example.com', false);
    expect(s.blockSites).toEqual(['example.com']);
    expect(siteEnabled(s, 'example.com')).toBe(false);
    s = setSiteEnabled(s, 'example.com', true);
    expect(s.blockSites).toEqual([]);
    expect(s.allowSites).toEqual(['example.com']);
  });

  it('validates patches field by field', () => {
    expect(validatePatch({ threshold: 0.7, backend: 'wasm', allowSites: ['A.com', 'a.com'] })).toEqual({
      threshold: 0.7,
      backend: 'wasm',
      allowSites: ['a.com'],
    });
    for (const bad of [
      { threshold: 1 },
      { threshold: '0.5' },
      { threshold: undefined },
      { backend: 'cuda' },
      { enabled: 1 },
      { nope: true },
      null,
      [],
    ]) {
      expect(() => validatePatch(bad), JSON.stringify(bad)).toThrow(/E_SETTINGS_INVALID/);
    }
  });

  it('the network model: off by default; a ws:// or wss:// endpoint and a u16 netuid', () => {
    expect(DEFAULT_SETTINGS.networkModel).toBe(false);
    expect(validatePatch({ networkModel: true, chainEndpoint: ' wss://chain.example:443 ', netuid: 34 })).toEqual({
      networkModel: true,
      chainEndpoint: 'wss://chain.example:443',
      netuid: 34,
    });
    for (const bad of [
      { networkModel: 'yes' },
      { chainEndpoint: 'https://chain.example' },
      { chainEndpoint: 9944 },
      { netuid: -1 },
      { netuid: 1.5 },
      { netuid: 65536 },
    ]) {
      expect(() => validatePatch(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'E_SETTINGS_INVALID' }));
    }
  });

  it('reading stored settings keeps valid fields and defaults the rest', () => {
    expect(readSettings({ threshold: 0.8, backend: 'gpu', blockSites: ['x.org'], extra: 1 })).toEqual({
      ...DEFAULT_SETTINGS,
      threshold: 0.8,
      blockSites: ['x.org'],
    });
  });

  it('auto is left to the runtime (WebGPU only on a hardware adapter); WebGPU falls back to WASM', () => {
    expect(backendChoice('auto')).toBe('auto');
    expect(backendChoice('webgpu')).toEqual(['webgpu', 'wasm']);
    expect(backendChoice('wasm')).toEqual(['wasm']);
  });
});
