/**
 * How every e2e test and benchmark starts Chromium here: Debian's binary (Playwright must not download one), no
 * background networking (this machine's network is closed), and WebGPU on whatever adapter exists (SwiftShader's
 * CPU fallback in CI, a real GPU elsewhere).
 */
export const CHROMIUM_PATH = process.env.VERACITY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];
