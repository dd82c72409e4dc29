// @veracity/validator: what scripts (npm start), e2e tests, benchmarks and other packages may use. Anything not
// exported from here or from a subpath (./bundle, ./chain, ./challenges, ./miner, ./test-support) is internal and may change.
export { ConfigError, DEFAULTS, redact, resolveConfig, type ValidatorConfig } from './config.js';
export { createLogger, type Level, type Logger } from './log.js';
export { main, runValidator, type RunningValidator, type WeightsCycle } from './main.js';
export { type MinerStanding, minerStandings } from './scores.js';
export { type AnswerRecord, DEFAULT_POLICY, type MinerScore, scoreMiner, type ScoringPolicy } from './scoring.js';
export { type CopyPolicy, ValidatorServer, type ValidatorServerOptions } from './server.js';
export { type Served, serveStatic } from './static-files.js';
export { createMetrics, type Metrics } from './status/metrics.js';
export type { StatusSnapshot } from './status/types.js';
export { type AnswerLog, Store, type WeightLog } from './store.js';
export { WeightHistory } from './weight-history.js';
