/**
 * Test and benchmark helpers: a chain-backed subnet (bare, or with two published bundles ranked by real validator
 * rounds), a hostile raw miner, an answer relay, polling helpers.
 */
export { DATASET, hostileAddress, until } from './helpers.js';
export { RawMiner } from './raw-miner.js';
export { AnswerRelay } from './relay.js';
export {
  BUNDLE_DIRS,
  type BundleName,
  type PublishedMiner,
  type PublishedSubnet,
  type PublishedSubnetOptions,
  rankBundles,
  type RankedBundles,
  startPublishedSubnet,
} from './published-subnet.js';
export { type Subnet, startSubnet } from './subnet.js';
export { startTestValidator, type TestValidator } from './validator.js';
