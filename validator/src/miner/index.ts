/** The reference Node miner (veracity-miner-node), for scripts, benchmarks and tests that need real miners. */
export { type MinerBehaviour, type MinerEvent, NodeMiner, type NodeMinerOptions } from './node-miner.js';
