/** The platform-free core: no DOM, no chrome.*, no node:*. Platform entry points are node.ts and web.ts. */
export * from './backend-choice.js';
export * from './bundle.js';
export * from './classify.js';
export * from './dataset.js';
export * from './errors.js';
export * from './image.js';
export * from './manifest.js';
export * from './metrics.js';
export * from './preprocess.js';
export * from './session.js';
