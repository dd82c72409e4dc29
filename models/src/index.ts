/**
 * The platform-free package root (`@veracity/models`): core/ (the runtime), plus the pure dataset manifest parser.
 * No DOM, no chrome.*, no node:* (purity.test.ts). Platform entry points are node/index.ts and web/index.ts.
 */
// The domain vocabulary (labels, probabilities, P(AI), modalities, frame aggregation) is defined once, in
// @veracity/protocol/domain; the runtime re-exports it so its users need one import.
export * from '@veracity/protocol/domain';
export * from './core/backend-choice.js';
export * from './core/bundle.js';
export * from './core/classify.js';
export * from './core/errors.js';
export * from './core/image.js';
export * from './core/manifest.js';
export * from './core/metrics.js';
export * from './core/preprocess.js';
export * from './core/session.js';
export * from './dataset/dataset.js';
