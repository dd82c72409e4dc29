#!/usr/bin/env node
// Runs the TypeScript bundle tool (check, serve, publish) through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/bundle/cli.ts');
await main(process.argv.slice(2));
