// Test pages are served by the product's own static server (validator/src/static-files.ts), one implementation.
export { serveStatic, type Served } from '@veracity/validator';
