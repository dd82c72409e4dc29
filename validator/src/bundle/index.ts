// @veracity/validator/bundle: the model channel's miner side (check, serve and publish a bundle) and what the
// validator reads of each miner's bundle. Used by `npm start`, e2e tests and the veracity-bundle CLI.
export { BundleCheckCode, BundleCheckError, type CheckedBundle, checkBundle, checkBundleFiles } from './check.js';
export { BundleTracker, leaderboard } from './miner-bundles.js';
export { type PublishedBundle, PublishCode, PublishError, publishBundle, verifyBundleUrl } from './publish.js';
export { type ServedBundles, serveBundles } from './serve.js';
