import { buildHarness } from './support/harness.js';

export default async function globalSetup(): Promise<void> {
  await buildHarness();
}
