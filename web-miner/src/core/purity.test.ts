import { describePure } from '../../../miner/test/pure-sources.js';

// The core holds the page's decisions (config merge, plain-words errors, stats) and is tested in Node; the same rule
// as the miner client it drives.
describePure('web-miner core stays pure', new URL('./', import.meta.url), /^@veracity\/protocol$/);
