// @veracity/protocol: the miner/validator wire protocol. Pure (no node:* imports, no clock, no sockets), so the
// Node validator, Node miners and the browser Web Worker miner all import the same code. See ../README.md.
export * from './assembler.js';
export * from './auth.js';
export * from './codec.js';
export * from './commitment.js';
export * from './domain.js';
export * from './errors.js';
export * from './heartbeat.js';
export * from './limits.js';
export * from './messages.js';
export * from './model-commitment.js';
export * from './weights.js';
export * from './standing.js';
