/** The validator's challenges: the labelled dataset, the factory that draws and augments items, leakage checks. */
export { ChallengeDataset, type RejectedRow } from './dataset.js';
export {
  type ChallengeConfig,
  ChallengeFactory,
  DEFAULT_CHALLENGE_CONFIG,
  type PreparedChallenge,
  type PreparedItem,
} from './factory.js';
export * from './leakage.js';
