// @veracity/miner: the one miner client. Pure (no DOM, no node:*, no clock or timers of its own): the web miner and
// the Node miner bring the socket, the clock, the signer and the model. See ../README.md.
export * from './session.js';
export * from './throttle.js';
