/**
 * The model channel's one on-chain record: a miner publishes the bundle it serves as a commitment (the commitments
 * pallet, `commitments.setCommitment(netuid, info)`) under its hotkey, so validators can check what a miner declares
 * and extension users can fetch the network's best model. Pure: the chain reading is the caller's (it passes the
 * `toJSON()` of `commitments.commitmentOf(netuid, hotkey)`), so the validator, both miners, the publish CLI and the
 * extension share this file.
 *
 * A bundle is a folder holding `manifest.json` and the files it names (model.onnx, with their sha256 in the manifest).
 * Its id is the sha256 of the manifest file's bytes (bundleDigest): the manifest pins the model's sha256, so one hash
 * covers the model, its input spec and its calibration. Miners declare that id, the chain stores it, downloaders check
 * the manifest against it and then each file against the manifest.
 *
 * Layout (the runtime allows 3 fields of at most 128 bytes each, measured on spec 293: `maxFields` = 3):
 *   field 0  Sha256   the bundle's sha256 (32 bytes): the id of the bundle, what miners declare in `auth`
 *   field 1  RawN     `veracity-bundle/<version>`: the tag says the record is ours, so other commitments are ignored
 *   field 2  RawN     the bundle's URL (http or https), at most 128 bytes
 */

import { u8aToHex } from '@polkadot/util';
// noble's sha256 (what @polkadot/util-crypto uses before its WASM is ready) rather than util-crypto's index: that one
// loads and compiles the WASM hashers as a side effect, 256 kB more in the extension's offscreen document (measured).
import { sha256 } from '@noble/hashes/sha2';

/** Tag that starts field 1, so a commitment written by other software is never taken for a bundle. */
export const MODEL_COMMITMENT_TAG = 'veracity-bundle/';
/** The pallet's largest Raw field (`Raw128`). */
export const MAX_COMMITMENT_FIELD_BYTES = 128;
export const MAX_MODEL_URL_BYTES = MAX_COMMITMENT_FIELD_BYTES;
export const MAX_MODEL_VERSION_BYTES = MAX_COMMITMENT_FIELD_BYTES - MODEL_COMMITMENT_TAG.length;
/** What a published bundle may weigh: the browser budget (issue 25) the publish CLI and every downloader enforce. */
export const MAX_BUNDLE_BYTES = 10 * 1024 * 1024;

/** A bundle's id: sha256 of its manifest.json bytes, exactly as served, 64 lowercase hex digits. */
export function bundleDigest(manifestBytes: Uint8Array): string {
  return u8aToHex(sha256(manifestBytes)).slice(2);
}

/** The URL of a file of a published bundle: `url` names the bundle folder, with or without a trailing slash. */
export function bundleFileUrl(url: string, file: string): string {
  return new URL(file, url.endsWith('/') ? url : url + '/').href;
}

export interface ModelCommitment {
  /** The bundle's id, bundleDigest(manifest.json), 64 lowercase hex digits. */
  sha256: string;
  /** The bundle manifest's version, e.g. "1.7.0". */
  version: string;
  /** The bundle folder's URL: manifest.json and the files it names are fetched relative to it (bundleFileUrl). */
  url: string;
}

/** A decoded commitment with the block it was written at (the newer of two equal-incentive records wins nothing). */
export interface PublishedModel extends ModelCommitment {
  block?: number;
}

export const ModelCommitmentError = {
  /** The record has no Sha256 field or no tag: not a Veracity bundle (another program's commitment). */
  NotABundle: 'E_NOT_A_BUNDLE',
  /** The record is tagged as ours but a field is malformed. */
  BadCommitment: 'E_BAD_COMMITMENT',
} as const;
export type ModelCommitmentError = (typeof ModelCommitmentError)[keyof typeof ModelCommitmentError];

export type Decoded<T> = { ok: true; value: T } | { ok: false; code: ModelCommitmentError; message: string };

const SHA256_RE = /^[0-9a-f]{64}$/;
const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;

const utf8 = (s: string) => new TextEncoder().encode(s);

function fromHex(hex: string): Uint8Array | undefined {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The problem with a commitment before it is written, or undefined when it can be published. */
export function modelCommitmentProblem(c: ModelCommitment): string | undefined {
  if (!SHA256_RE.test(c.sha256)) return 'sha256 must be 64 lowercase hex digits';
  if (!VERSION_RE.test(c.version)) return `version "${c.version}" must be letters, digits and . + _ - (like 1.7.0)`;
  if (utf8(c.version).length > MAX_MODEL_VERSION_BYTES) return `version must be at most ${MAX_MODEL_VERSION_BYTES} bytes`;
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    return `url "${c.url}" is not an absolute URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `url must be http or https, not ${url.protocol}`;
  if (url.username || url.password) return 'url must not carry credentials';
  if (utf8(c.url).length > MAX_MODEL_URL_BYTES)
    return `url is ${utf8(c.url).length} bytes; the chain stores at most ${MAX_MODEL_URL_BYTES}`;
  return undefined;
}

/** One field of the pallet's `Data` enum as @polkadot/api accepts it in a call argument. */
export type CommitmentField = { Sha256: string } | Record<`Raw${number}`, string>;

/** The `info` argument of `commitments.setCommitment(netuid, info)`. Throws on a commitment that cannot be published. */
export function encodeModelCommitment(c: ModelCommitment): { fields: CommitmentField[] } {
  const problem = modelCommitmentProblem(c);
  if (problem !== undefined) throw new Error(`cannot publish this bundle: ${problem}`);
  const raw = (s: string): CommitmentField => {
    const bytes = utf8(s);
    return { [`Raw${bytes.length}`]: u8aToHex(bytes) } as CommitmentField;
  };
  return { fields: [{ Sha256: '0x' + c.sha256 }, raw(MODEL_COMMITMENT_TAG + c.version), raw(c.url)] };
}

/** A field as `toJSON()` renders it: `{ sha256: '0x…' }`, `{ raw17: '0x…' }` (keys in any case). */
function fieldOf(v: unknown): { kind: string; bytes: Uint8Array } | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length !== 1) return undefined;
  const [key, value] = entries[0]!;
  if (typeof value !== 'string') return undefined;
  const bytes = fromHex(value);
  return bytes ? { kind: key.toLowerCase(), bytes } : undefined;
}

/**
 * Reads a Veracity bundle out of a commitment record: the `toJSON()` of `commitments.commitmentOf(netuid, hotkey)`
 * (`{ deposit, block, info: { fields: [...] } }`), or just its `info`. Records that are not ours say so with
 * E_NOT_A_BUNDLE; ours but malformed with E_BAD_COMMITMENT.
 */
export function decodeModelCommitment(record: unknown): Decoded<PublishedModel> {
  const notOurs = (message: string): Decoded<PublishedModel> => ({ ok: false, code: 'E_NOT_A_BUNDLE', message });
  const bad = (message: string): Decoded<PublishedModel> => ({ ok: false, code: 'E_BAD_COMMITMENT', message });
  if (typeof record !== 'object' || record === null) return notOurs('no commitment');
  const r = record as { block?: unknown; info?: unknown; fields?: unknown };
  const info = (r.info ?? r) as { fields?: unknown };
  if (!Array.isArray(info.fields)) return notOurs('the commitment has no fields');
  const fields = info.fields.map(fieldOf);
  const hash = fields[0];
  const tag = fields[1];
  if (hash?.kind !== 'sha256' || hash.bytes.length !== 32 || !tag?.kind.startsWith('raw'))
    return notOurs('the commitment is not a Veracity bundle record (Sha256, tag, url)');
  const tagText = new TextDecoder().decode(tag.bytes);
  if (!tagText.startsWith(MODEL_COMMITMENT_TAG)) return notOurs(`field 1 does not start with ${MODEL_COMMITMENT_TAG}`);
  const urlField = fields[2];
  if (!urlField?.kind.startsWith('raw')) return bad('the url field is missing');
  let url: string;
  try {
    url = new TextDecoder('utf-8', { fatal: true }).decode(urlField.bytes);
  } catch {
    return bad('the url field is not UTF-8');
  }
  const value: PublishedModel = {
    sha256: u8aToHex(hash.bytes).slice(2),
    version: tagText.slice(MODEL_COMMITMENT_TAG.length),
    url,
  };
  const problem = modelCommitmentProblem(value);
  if (problem !== undefined) return bad(problem);
  const block = typeof r.block === 'number' ? r.block : typeof r.block === 'string' ? Number(r.block) : NaN;
  if (Number.isSafeInteger(block)) value.block = block;
  return { ok: true, value };
}

/** One neuron as the model selection sees it: from the metagraph, with its decoded commitment if any. */
export interface ModelCandidate {
  uid: number;
  hotkey: string;
  /** The chain's incentive for the uid, normalised to [0, 1] (u16 / 65535). */
  incentive: number;
  model?: PublishedModel;
}

export type ModelPick =
  | { ok: true; uid: number; hotkey: string; incentive: number; model: PublishedModel }
  | { ok: false; code: 'E_NO_PUBLISHED_MODEL'; message: string };

/**
 * The network's model: the published bundle of the uid with the highest incentive. Uids with zero incentive are not
 * picked (the network has not ranked them: a fresh registration would otherwise win an all-zero tie). Ties go to the
 * lower uid, so every reader of the same metagraph picks the same bundle.
 */
export function pickNetworkModel(candidates: readonly ModelCandidate[]): ModelPick {
  let best: ModelCandidate | undefined;
  let published = 0;
  for (const c of candidates) {
    if (!c.model) continue;
    published++;
    if (!(c.incentive > 0)) continue;
    if (!best || c.incentive > best.incentive || (c.incentive === best.incentive && c.uid < best.uid)) best = c;
  }
  if (!best) {
    return {
      ok: false,
      code: 'E_NO_PUBLISHED_MODEL',
      message:
        published === 0
          ? 'no miner on this subnet has published a bundle'
          : `${published} miner(s) published a bundle, but none has incentive yet`,
    };
  }
  return { ok: true, uid: best.uid, hotkey: best.hotkey, incentive: best.incentive, model: best.model! };
}
