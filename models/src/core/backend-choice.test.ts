import { describe, expect, it } from 'vitest';
import { backendPlan, isSoftwareAdapter } from './backend-choice.js';

// What Chromium 156 reports on this machine (--enable-unsafe-webgpu, no GPU) and what a real GPU reports.
const SWIFTSHADER = { vendor: 'google', architecture: 'swiftshader', description: '', isFallbackAdapter: true };
const NVIDIA = { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', isFallbackAdapter: false };

describe('isSoftwareAdapter', () => {
  it('knows a fallback adapter by its flag, or a CPU rasteriser by name when the flag is missing', () => {
    expect(isSoftwareAdapter(SWIFTSHADER)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: true })).toBe(true);
  });
  it('takes a hardware adapter, or one that says nothing about itself, for a GPU', () => {
    expect(isSoftwareAdapter(NVIDIA)).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'intel', architecture: 'gen-12lp' })).toBe(false);
    expect(isSoftwareAdapter({})).toBe(false);
  });
});

describe('backendPlan', () => {
  it('auto: WebGPU then WASM on a hardware adapter', () => {
    expect(backendPlan('auto', NVIDIA)).toEqual({ backends: ['webgpu', 'wasm'], skipped: [] });
  });
  it('auto: WASM only on a software adapter, saying why WebGPU was skipped', () => {
    const plan = backendPlan('auto', SWIFTSHADER);
    expect(plan.backends).toEqual(['wasm']);
    expect(plan.skipped).toHaveLength(1);
    expect(plan.skipped[0]!.name).toBe('webgpu');
    expect(plan.skipped[0]!.error).toContain('software adapter (google swiftshader)');
  });
  it('auto: WASM only when there is no adapter', () => {
    expect(backendPlan('auto', null).backends).toEqual(['wasm']);
    expect(backendPlan('auto', null).skipped[0]!.error).toContain('no WebGPU adapter');
  });
  it('an explicit order is kept as given, software adapter or not', () => {
    expect(backendPlan(['webgpu', 'wasm'], SWIFTSHADER)).toEqual({ backends: ['webgpu', 'wasm'], skipped: [] });
    expect(backendPlan(['webgpu'], null)).toEqual({ backends: ['webgpu'], skipped: [] });
    expect(backendPlan(['wasm'], NVIDIA)).toEqual({ backends: ['wasm'], skipped: [] });
  });
});
