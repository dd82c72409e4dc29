/**
 * The validator hotkey (sr25519): from a secret URI / mnemonic string, from a polkadot-js JSON keystore file and its
 * password, or from a bittensor (btcli) unencrypted hotkey file. Secrets never reach a log line or an error message:
 * errors name the source ("the hotkey URI", a file path), never its content.
 */
import { readFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair, KeyringPair$Json } from '@polkadot/keyring/types';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';

/** Bittensor's ss58 prefix (generic substrate). */
export const SS58_FORMAT = 42;

let ready: Promise<boolean> | undefined;
async function keyring(): Promise<Keyring> {
  ready ??= cryptoWaitReady();
  await ready;
  return new Keyring({ type: 'sr25519', ss58Format: SS58_FORMAT });
}

/** A pair from a secret URI (`//Alice`, `mnemonic//hard/soft///password`, a 0x seed). */
export async function keyFromUri(uri: string, name = 'hotkey'): Promise<KeyringPair> {
  const kr = await keyring();
  const trimmed = uri.trim();
  if (!trimmed) throw new Error(`the ${name} URI is empty`);
  try {
    return kr.addFromUri(trimmed, { name }, 'sr25519');
  } catch {
    // The library's message may quote its input: say what is wrong without it.
    throw new Error(`could not derive the ${name} from its secret: it is not a valid mnemonic, 0x seed or //dev URI`);
  }
}

/** Shape of a btcli hotkey file (unencrypted). */
interface BittensorKeyfile {
  secretSeed?: string;
  secretPhrase?: string;
  ss58Address?: string;
}

/**
 * A pair from a key file: a polkadot-js JSON keystore (`encoding.content` pkcs8 + sr25519, unlocked with `password`),
 * or a btcli hotkey file (`secretSeed`/`secretPhrase`, not encrypted; an encrypted `$NACL` file is refused).
 */
export async function keyFromKeystore(file: string, password: string | undefined, name = 'hotkey'): Promise<KeyringPair> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the ${name} keystore ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
  }
  if (text.startsWith('$NACL') || text.startsWith('$BTWALLET')) {
    throw new Error(`${file} is an encrypted bittensor keyfile; decrypt it with btcli or export a polkadot-js JSON keystore`);
  }
  let json: KeyringPair$Json & BittensorKeyfile;
  try {
    json = JSON.parse(text) as KeyringPair$Json & BittensorKeyfile;
  } catch {
    throw new Error(`${file} is not JSON (expected a polkadot-js keystore or a bittensor hotkey file)`);
  }
  const kr = await keyring();
  if (json.encoding?.content) {
    const content = json.encoding.content.map(String);
    if (!content.includes('sr25519')) {
      throw new Error(`${file} holds a ${content.join('/')} key; the hotkey must be sr25519`);
    }
    let pair: KeyringPair;
    try {
      pair = kr.addFromJson(json);
    } catch (e) {
      throw new Error(`${file} is not a valid polkadot-js keystore: ${(e as Error).message}`, { cause: e });
    }
    if (pair.isLocked) {
      try {
        pair.unlock(password ?? '');
      } catch {
        throw new Error(`cannot unlock ${file}: wrong or missing keystore password`);
      }
    }
    return pair;
  }
  const secret = json.secretSeed ?? json.secretPhrase;
  if (secret) {
    const pair = await keyFromUri(secret, name).catch(() => {
      throw new Error(`${file}: its secretSeed/secretPhrase does not give a key`);
    });
    if (json.ss58Address && json.ss58Address !== pair.address) {
      throw new Error(`${file}: the key derived from its secret is ${pair.address}, not its ss58Address ${json.ss58Address}`);
    }
    return pair;
  }
  throw new Error(`${file} holds no key (neither a polkadot-js keystore nor a bittensor hotkey file)`);
}

export interface HotkeySource {
  /** Secret URI or mnemonic. */
  uri?: string;
  /** polkadot-js JSON keystore file (or btcli hotkey file). */
  keystore?: string;
  keystorePassword?: string;
}

/** The validator hotkey from config: a URI wins over a keystore; one of them is required. */
export async function loadHotkey(src: HotkeySource): Promise<KeyringPair> {
  if (src.uri?.trim()) return keyFromUri(src.uri);
  if (src.keystore?.trim()) return keyFromKeystore(src.keystore, src.keystorePassword);
  throw new Error('no hotkey configured: set a secret URI/mnemonic (env) or a keystore file and its password');
}

/** True when `s` is an ss58 address (not a secret URI). */
export function isAddress(s: string): boolean {
  if (s.startsWith('/') || /\s/.test(s.trim())) return false;
  try {
    decodeAddress(s);
    return true;
  } catch {
    return false;
  }
}

/** An address from either an ss58 address or a secret URI. */
export async function toAddress(keyOrUri: string | KeyringPair): Promise<string> {
  if (typeof keyOrUri !== 'string') return keyOrUri.address;
  if (isAddress(keyOrUri)) return (await keyring()).encodeAddress(decodeAddress(keyOrUri), SS58_FORMAT);
  return (await keyFromUri(keyOrUri)).address;
}

/** A public description of a pair, safe to log. */
export const describeKey = (pair: KeyringPair): string => `${pair.address} (${pair.type})`;
