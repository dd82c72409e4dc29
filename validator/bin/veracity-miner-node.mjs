#!/usr/bin/env node
// Runs the TypeScript reference miner through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/miner/main.ts');
await main(process.argv.slice(2));
