/** Test and benchmark helpers: a chain-backed subnet, a hostile raw miner, an answer relay, polling helpers. */
export { DATASET, hostileAddress, until } from './helpers.js';
export { RawMiner } from './raw-miner.js';
export { AnswerRelay } from './relay.js';
export { type Subnet, startSubnet } from './subnet.js';
export { startTestValidator, type TestValidator } from './validator.js';
