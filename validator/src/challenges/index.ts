/**
 * The validator's challenges: the labelled dataset, the factory that draws and augments items, the generated sources
 * (TAE round trips of a real-photo pool, and of every frame of real clips), leakage checks.
 */
export { ChallengeDataset, type RejectedRow } from './dataset.js';
export {
  type ChallengeConfig,
  ChallengeFactory,
  DEFAULT_CHALLENGE_CONFIG,
  generatedDemand,
  type PreparedChallenge,
  type ItemOrigin,
  type PreparedItem,
} from './factory.js';
export {
  cropSquare,
  datasetPool,
  folderPool,
  GENERATED_SIDE,
  type GeneratedItem,
  GeneratedSource,
  type GenerationOptions,
  type GenerationStatus,
  pasteRegion,
  type RealPool,
  regionMask,
  reencodeJpeg,
} from './generated.js';
export {
  type ClipPool,
  datasetClipPool,
  folderClipPool,
  GENERATED_VIDEO_SIDE,
  type GeneratedClip,
  GeneratedVideoSource,
  type VideoGenerationOptions,
  type VideoGenerationStatus,
} from './generated-video.js';
export { type AheadOptions, type AheadStatus, MadeAhead } from './ahead.js';
export {
  GENERATOR_NICE,
  GenerationError,
  GenerationErrorCode,
  loadTaeModels,
  type RoundTripper,
  type TaeFamily,
  type TaeModels,
  TaeRunner,
} from './tae.js';
/** The seeded stream challenges (static and generated) are drawn from. */
export { Rng } from '../random.js';
export * from './leakage.js';
