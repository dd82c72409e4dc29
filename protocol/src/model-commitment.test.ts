import { describe, expect, it } from 'vitest';
import { signAuth } from './auth.js';
import { decodeText, encode } from './codec.js';
import { DEFAULT_LIMITS } from './limits.js';
import {
  bundleDigest,
  bundleFileUrl,
  decodeModelCommitment,
  encodeModelCommitment,
  MAX_MODEL_URL_BYTES,
  type ModelCandidate,
  modelCommitmentProblem,
  pickNetworkModel,
} from './model-commitment.js';

const SHA = 'ab'.repeat(32);
const good = { sha256: SHA, version: '1.7.0', url: 'https://models.example/veracity/1.7.0/' };

/** What `commitmentOf(...).toJSON()` returns for an encoded commitment: lower-camel keys, hex bytes. */
function asChainJson(info: { fields: Record<string, string>[] }, block = 19) {
  const fields = info.fields.map((f) => {
    const [k, v] = Object.entries(f)[0]!;
    return { [k[0]!.toLowerCase() + k.slice(1)]: v };
  });
  return { deposit: 0, block, info: { fields } };
}

describe('model commitment encoding', () => {
  it('round-trips through the chain JSON form', () => {
    const info = encodeModelCommitment(good);
    expect(info.fields).toHaveLength(3);
    expect(info.fields[0]).toEqual({ Sha256: '0x' + SHA });
    expect(Object.keys(info.fields[1]!)[0]).toBe('Raw21');
    const decoded = decodeModelCommitment(asChainJson(info, 42));
    expect(decoded).toEqual({ ok: true, value: { ...good, block: 42 } });
  });

  it('takes the bare info too, and a URL of exactly 128 bytes', () => {
    const url = 'https://m.example/' + 'a'.repeat(MAX_MODEL_URL_BYTES - 'https://m.example/'.length);
    const info = encodeModelCommitment({ ...good, url });
    expect(Object.keys(info.fields[2]!)[0]).toBe('Raw128');
    const decoded = decodeModelCommitment(asChainJson(info).info);
    expect(decoded.ok && decoded.value.url).toBe(url);
  });

  it('refuses what cannot be published, saying why', () => {
    expect(modelCommitmentProblem({ ...good, sha256: 'AB'.repeat(32) })).toMatch(/lowercase hex/);
    expect(modelCommitmentProblem({ ...good, url: 'ftp://x.example/b' })).toMatch(/http or https/);
    expect(modelCommitmentProblem({ ...good, url: 'https://u:p@x.example/b' })).toMatch(/credentials/);
    expect(modelCommitmentProblem({ ...good, url: 'https://x.example/' + 'a'.repeat(120) })).toMatch(/at most 128/);
    expect(modelCommitmentProblem({ ...good, version: '1.7 beta' })).toMatch(/version/);
    expect(() => encodeModelCommitment({ ...good, url: 'not a url' })).toThrow(/absolute URL/);
  });

  it('ignores other programs’ commitments and flags broken ones of ours', () => {
    expect(decodeModelCommitment(null)).toMatchObject({ ok: false, code: 'E_NOT_A_BUNDLE' });
    expect(decodeModelCommitment({ info: { fields: [{ raw5: '0x68656c6c6f' }] } })).toMatchObject({
      ok: false,
      code: 'E_NOT_A_BUNDLE',
    });
    const other = asChainJson(encodeModelCommitment(good));
    other.info.fields[1] = { raw5: '0x68656c6c6f' };
    expect(decodeModelCommitment(other)).toMatchObject({ ok: false, code: 'E_NOT_A_BUNDLE' });
    const noUrl = asChainJson(encodeModelCommitment(good));
    noUrl.info.fields.pop();
    expect(decodeModelCommitment(noUrl)).toMatchObject({ ok: false, code: 'E_BAD_COMMITMENT' });
    const badUrl = asChainJson(encodeModelCommitment(good));
    badUrl.info.fields[2] = { raw3: '0x616263' };
    expect(decodeModelCommitment(badUrl)).toMatchObject({ ok: false, code: 'E_BAD_COMMITMENT', message: /URL/ });
  });
});

describe('bundle digest and file URLs', () => {
  it('hashes the manifest bytes', () => {
    // sha256("abc"), FIPS 180-2 test vector.
    expect(bundleDigest(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
  it('resolves files inside the bundle folder with or without a trailing slash', () => {
    expect(bundleFileUrl('https://m.example/b/1.7.0', 'manifest.json')).toBe('https://m.example/b/1.7.0/manifest.json');
    expect(bundleFileUrl('https://m.example/b/1.7.0/', 'model.onnx')).toBe('https://m.example/b/1.7.0/model.onnx');
  });
});

describe('pickNetworkModel', () => {
  const model = (v: string) => ({ ...good, version: v });
  const c = (uid: number, incentive: number, m?: string): ModelCandidate => ({
    uid,
    hotkey: `hk${uid}`,
    incentive,
    model: m ? model(m) : undefined,
  });

  it('picks the published bundle of the uid with the highest incentive', () => {
    const pick = pickNetworkModel([c(1, 0.2, 'a'), c(2, 0.7), c(3, 0.5, 'b'), c(4, 0.1, 'c')]);
    expect(pick).toMatchObject({ ok: true, uid: 3, incentive: 0.5, model: { version: 'b' } });
  });
  it('breaks ties towards the lower uid, whatever the order', () => {
    expect(pickNetworkModel([c(5, 0.4, 'x'), c(2, 0.4, 'y')])).toMatchObject({ uid: 2 });
    expect(pickNetworkModel([c(2, 0.4, 'y'), c(5, 0.4, 'x')])).toMatchObject({ uid: 2 });
  });
  it('says why when there is nothing to pick', () => {
    expect(pickNetworkModel([])).toMatchObject({ ok: false, code: 'E_NO_PUBLISHED_MODEL', message: /no miner/ });
    expect(pickNetworkModel([c(1, 0.9)])).toMatchObject({ ok: false, message: /no miner/ });
    expect(pickNetworkModel([c(1, 0, 'a'), c(2, 0.9)])).toMatchObject({ ok: false, message: /none has incentive/ });
  });
});

describe('auth declares the bundle', () => {
  it('carries bundleSha256 through the codec, and refuses a malformed one', async () => {
    const { Keyring } = await import('@polkadot/keyring');
    const { cryptoWaitReady } = await import('@polkadot/util-crypto');
    await cryptoWaitReady();
    const bob = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Bob');
    const hello = { netuid: 2, validatorHotkey: bob.address, nonce: 'cd'.repeat(32) };
    const auth = signAuth(bob, hello, 1_700_000_000_000, { bundleSha256: SHA });
    const back = decodeText(encode(auth), DEFAULT_LIMITS, { from: 'miner' });
    expect(back).toMatchObject({ ok: true, message: { type: 'auth', bundleSha256: SHA } });
    expect(signAuth(bob, hello, 1_700_000_000_000)).not.toHaveProperty('bundleSha256');
    const bad = decodeText(JSON.stringify({ ...auth, bundleSha256: 'XYZ' }), DEFAULT_LIMITS, { from: 'miner' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'E_BAD_MESSAGE' } });
  });
});
