import { ApiPromise, WsProvider } from '@polkadot/api';
import { bootstrapSubnet, type BootstrapResult } from '../chain/bootstrap.js';
import { type Localnet, startLocalnet } from '../chain/localnet.js';
import { defaultSpec } from '../chain/spec.js';

export interface Subnet {
  net: Localnet;
  api: ApiPromise;
  boot: BootstrapResult;
  uidOf(hotkey: string): number;
  close(): Promise<void>;
}

/**
 * chopsticks running the subtensor runtime (offline, any free port), a subnet with //Alice validating and `miners`
 * registered: the chain every chain-backed integration and e2e test starts from.
 */
export async function startSubnet(miners: string[]): Promise<Subnet> {
  const net = await startLocalnet({ spec: defaultSpec(), port: 0 });
  const api = await ApiPromise.create({ provider: new WsProvider(net.endpoint), noInitWarn: true });
  const boot = await bootstrapSubnet(api, { validatorHotkey: '//Alice', minerHotkeys: miners });
  const uids = new Map(boot.minerUids.map((m) => [m.hotkey, m.uid]));
  return {
    net,
    api,
    boot,
    uidOf: (hotkey) => {
      const uid = uids.get(hotkey);
      if (uid === undefined) throw new Error(`${hotkey} is not a bootstrapped miner`);
      return uid;
    },
    close: async () => {
      await api.disconnect();
      await net.close();
    },
  };
}
