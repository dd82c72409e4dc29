/**
 * Identity: accounts from a wallet extension through @polkadot/extension-dapp (keys stay in the wallet, which signs
 * the handshake with signRaw), or a clearly labelled development account from a secret URI kept in memory only.
 */
import { web3Accounts, web3Enable, web3FromSource } from '@polkadot/extension-dapp';
import { Keyring } from '@polkadot/keyring';
import { stringToHex, stringToU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { TextSigner } from '@veracity/miner';

export interface Account {
  address: string;
  name?: string;
  /** The extension's name ('polkadot-js', 'talisman', …), or 'dev' for the in-memory development account. */
  source: string;
}

export class WalletError extends Error {
  constructor(
    readonly code: 'E_NO_WALLET' | 'E_NO_ACCOUNT' | 'E_WALLET_REJECTED',
    message: string,
  ) {
    super(message);
  }
}

export const APP_NAME = 'Veracity web miner';

/** Asks every injected wallet for access, then lists sr25519 accounts. */
export async function walletAccounts(): Promise<Account[]> {
  let extensions;
  try {
    extensions = await web3Enable(APP_NAME);
  } catch (e) {
    throw new WalletError('E_WALLET_REJECTED', e instanceof Error ? e.message : String(e));
  }
  if (extensions.length === 0) throw new WalletError('E_NO_WALLET', 'no wallet extension answered web3Enable');
  const accounts = await web3Accounts({ ss58Format: 42 });
  const usable = accounts.filter((a) => a.type === undefined || a.type === 'sr25519');
  if (usable.length === 0)
    throw new WalletError('E_NO_ACCOUNT', `${extensions.map((x) => x.name).join(', ')}: no sr25519 accounts`);
  return usable.map((a) => ({ address: a.address, source: a.meta.source, ...(a.meta.name ? { name: a.meta.name } : {}) }));
}

/** The wallet signs `<Bytes>payload</Bytes>`; the protocol's verifiers accept that form (protocol README §5). */
export function walletSigner(account: Account): TextSigner {
  return async (payload) => {
    const injected = await web3FromSource(account.source);
    if (!injected.signer.signRaw) throw new WalletError('E_WALLET_REJECTED', `${account.source} cannot sign raw bytes`);
    try {
      const { signature } = await injected.signer.signRaw({
        address: account.address,
        data: stringToHex(payload),
        type: 'bytes',
      });
      return signature;
    } catch (e) {
      throw new WalletError('E_WALLET_REJECTED', e instanceof Error ? e.message : String(e));
    }
  };
}

/** A development key from a secret URI or mnemonic; the secret lives in this closure only, never in storage. */
export async function devAccount(uri: string): Promise<{ account: Account; sign: TextSigner }> {
  await cryptoWaitReady();
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri.trim());
  return {
    account: { address: pair.address, name: 'local development account', source: 'dev' },
    sign: async (payload) => u8aToHex(pair.sign(stringToU8a(payload))),
  };
}
