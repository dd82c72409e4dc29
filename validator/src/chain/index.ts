/** The validator's chain layer: local chain, subnet bootstrap, metagraph, weights, keys. See README.md. */
export * from './bootstrap.js';
export * from './chain-sync.js';
export * from './keys.js';
export { readAuraSlotDuration, startLocalnet, type ChopsticksLogLevel, type Localnet, type LocalnetOptions } from './localnet.js';
export * from './metagraph.js';
export * from './spec.js';
export * from './tx.js';
export * from './weights.js';
