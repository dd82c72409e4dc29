import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicGenerate } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { isAddress, keyFromKeystore, keyFromUri, loadHotkey, toAddress } from './keys.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const dir = () => mkdtempSync(join(tmpdir(), 'veracity-keys-'));

describe('keys', () => {
  it('derives sr25519 pairs from dev URIs and mnemonics', async () => {
    const alice = await keyFromUri('//Alice');
    expect(alice.address).toBe(ALICE);
    expect(alice.type).toBe('sr25519');
    const phrase = mnemonicGenerate();
    const a = await keyFromUri(phrase);
    const b = await keyFromUri(`${phrase}//hot`);
    expect(a.address).not.toBe(b.address);
  });

  it('loads a polkadot-js keystore with its password, and refuses a wrong one without echoing it', async () => {
    const pair = await keyFromUri(`${mnemonicGenerate()}//validator`);
    const file = join(dir(), 'hotkey.json');
    writeFileSync(file, JSON.stringify(pair.toJson('correct horse')));
    const loaded = await keyFromKeystore(file, 'correct horse');
    expect(loaded.address).toBe(pair.address);
    expect(loaded.isLocked).toBe(false);
    const sig = loaded.sign(new Uint8Array([1, 2, 3]));
    expect(pair.verify(new Uint8Array([1, 2, 3]), sig, pair.publicKey)).toBe(true);
    const err = await keyFromKeystore(file, 'battery staple').catch((e: Error) => e);
    expect(String(err)).toMatch(/wrong or missing keystore password/);
    expect(String(err)).not.toContain('battery staple');
  });

  it('loads an unencrypted bittensor hotkey file and checks its address', async () => {
    const phrase = mnemonicGenerate();
    const pair = await keyFromUri(phrase);
    const file = join(dir(), 'default');
    writeFileSync(file, JSON.stringify({ secretPhrase: phrase, ss58Address: pair.address }));
    expect((await keyFromKeystore(file, undefined)).address).toBe(pair.address);
    writeFileSync(file, JSON.stringify({ secretPhrase: phrase, ss58Address: ALICE }));
    const err = await keyFromKeystore(file, undefined).catch((e: Error) => e);
    expect(String(err)).toMatch(/not its ss58Address/);
    expect(String(err)).not.toContain(phrase.split(' ')[0]!);
  });

  it('never puts a secret into an error message', async () => {
    const secret = 'zebra quantum walrus fiddle marmalade';
    const err = await keyFromUri(secret).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    for (const word of secret.split(' ').filter((w) => w.length >= 3)) expect(String(err)).not.toContain(word);
    await expect(loadHotkey({})).rejects.toThrow(/no hotkey configured/);
  });

  it('tells addresses from URIs', async () => {
    expect(isAddress(ALICE)).toBe(true);
    expect(isAddress('//Alice')).toBe(false);
    expect(isAddress('word '.repeat(12).trim())).toBe(false);
    expect(await toAddress('//Alice')).toBe(ALICE);
    expect(await toAddress(ALICE)).toBe(ALICE);
  });
});
