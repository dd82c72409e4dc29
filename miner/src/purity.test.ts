import { describePure } from '../test/pure-sources.js';

// The miner client runs in a browser page and in Node: the socket, the clock, the signer and the model come in as
// arguments, so the same code runs in both and in these tests.
describePure('the miner client stays pure', new URL('./', import.meta.url), /^@veracity\/protocol$/);
