import { ApiPromise, WsProvider } from '@polkadot/api';
import { existsSync } from 'node:fs';
import { startLocalnet, advanceBlocks } from './localnet.js';
import { bootstrapSubnet, sudoSetHyperparams } from './bootstrap.js';
import { readMetagraph } from './metagraph.js';
import { keyFromUri } from './keys.js';
import { setWeights, readWeights, toU16Weights, commitWeights, revealWeights, weightsState } from './weights.js';
const t0 = Date.now();
const T = () => Date.now() - t0;
const db = '/tmp/chx/boot.db';
const resume = existsSync(db) && !process.env.FRESH;
const net = await startLocalnet({ db, resume });
const api = await ApiPromise.create({ provider: new WsProvider(net.endpoint), noInitWarn: true });
console.log('ready', T(), 'resume', resume, 'head', net.startBlock);
const r = await bootstrapSubnet(api, {
  validatorHotkey: '//Alice',
  minerHotkeys: ['//Miner1', '//Miner2', '//Miner3'],
  onProgress: (p) => p.status !== 'start' && console.log(T(), p.step, p.status, p.detail ?? ''),
});
console.log('boot', T(), JSON.stringify(r));
const mg = await readMetagraph(api, r.netuid);
console.log('mg', T(), mg.block, mg.uids);
const alice = await keyFromUri('//Alice');
const sudo = alice;
const n = r.netuid;
const { uids, weights } = toU16Weights(
  new Map([
    [1, 0.9],
    [2, 0.2],
    [3, 0],
  ]),
);
let res = await setWeights(api, alice, n, uids, weights, 0);
console.log('set1', T(), res);
console.log('read', [...(await readWeights(api, n, r.validatorUid))]);
await sudoSetHyperparams(api, sudo, n, { weightsSetRateLimit: 50 });
res = await setWeights(api, alice, n, uids, weights, 0);
console.log('set2 precheck', T(), res);
res = await setWeights(api, alice, n, uids, weights, 0, { precheck: false });
console.log('set2 chain', T(), res);
await sudoSetHyperparams(api, sudo, n, { weightsSetRateLimit: 0, weightsVersionKey: 5 });
res = await setWeights(api, alice, n, uids, weights, 4, { precheck: false });
console.log('vk chain', T(), res);
await sudoSetHyperparams(api, sudo, n, { stakeThreshold: 10n ** 18n });
res = await setWeights(api, alice, n, uids, weights, 5, { precheck: false });
console.log('stake chain', T(), res);
await sudoSetHyperparams(api, sudo, n, { stakeThreshold: 0, commitReveal: true });
res = await setWeights(api, alice, n, uids, weights, 5, { precheck: false });
console.log('cr chain', T(), res);
const m1 = await keyFromUri('//Miner1');
res = await setWeights(api, m1, n, [2], [100], 5, { precheck: false });
console.log('nopermit chain', T(), res);
const c = await commitWeights(api, alice, n, [1, 2, 3], [65535, 30000, 0], 5);
console.log('commit', T(), c);
if (c.ok) {
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  let rv = await revealWeights(api, alice, c);
  console.log('reveal early', rv);
  rv = await revealWeights(api, alice, c, { precheck: false });
  console.log('reveal early chain', rv);
  await advanceBlocks(api, c.reveal.first - head - 1);
  rv = await revealWeights(api, alice, c);
  console.log('reveal', T(), rv, [...(await readWeights(api, n, r.validatorUid))]);
}
console.log(await weightsState(api, n, alice.address));
await api.disconnect();
await net.close();
console.log('total', T());
