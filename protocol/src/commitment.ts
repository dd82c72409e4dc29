/**
 * Label commitments: the validator fixes each challenge's label when it sends the challenge and shows it only after
 * the reveal window, so a miner can check that it was scored against the label the validator had all along, while
 * no message carries a label a miner could use to answer (or to collect labelled pairs) while it still counts.
 *
 *   commitment = lowercase hex of sha256( UTF-8 bytes of "veracity-commit:v2:<id>:<label>:<salt>" )
 *
 * `id` is the challenge id exactly as in `challenge.id`, `label` one of real | synthetic | semisynthetic, `salt` the
 * 64 lowercase hex digits of 32 secret random bytes, fresh per challenge (without it the three possible labels could
 * be tried against the hash). The id cannot be confused with the label: the label and the salt contain no ':', so
 * the text splits unambiguously from the right.
 */
import { u8aToHex } from '@polkadot/util';
import { sha256AsU8a } from '@polkadot/util-crypto';
import { ErrorCode } from './errors.js';
import type { Label } from './domain.js';
import { type ErrorMessage, PROTOCOL_VERSION, type RevealMessage } from './messages.js';

export const COMMITMENT_DOMAIN = 'veracity-commit:v2';

/** The exact text whose UTF-8 bytes are hashed. */
export function commitmentPayloadText(id: string, label: Label, salt: string): string {
  return `${COMMITMENT_DOMAIN}:${id}:${label}:${salt}`;
}

/** sha256 of the payload, as the 64 lowercase hex digits `challenge.commitment` carries. */
export function commitmentFor(id: string, label: Label, salt: string): string {
  return u8aToHex(sha256AsU8a(new TextEncoder().encode(commitmentPayloadText(id, label, salt))), -1, false);
}

/** 32 fresh random bytes from the platform CSPRNG as 64 lowercase hex digits: one per challenge, never reused. */
export function newSalt(): string {
  return u8aToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)), -1, false);
}

export type MismatchReason = 'commitment' | 'unknown';

export interface RevealCheck {
  /** Ids whose label and salt hash to the commitment received with the challenge. */
  verified: Array<{ id: string; label: Label }>;
  /** 'commitment': the hash differs (the label was changed after the fact); 'unknown': no challenge with that id came. */
  mismatched: Array<{ id: string; reason: MismatchReason }>;
}

export interface AuditCounts {
  /** Commitments received. */
  committed: number;
  /** Items revealed (verified + mismatched). */
  revealed: number;
  verified: number;
  mismatched: number;
  /** Commitments still waiting for their reveal. */
  pending: number;
  /** Commitments dropped unrevealed to bound memory (a validator that never reveals). */
  expired: number;
}

/**
 * The miner's side of the audit: remembers the commitment of every challenge it received and checks reveals against
 * them. One per validator, kept across reconnects (a reveal may come on a later connection). Pure, no clock.
 */
export class RevealAudit {
  private readonly pending = new Map<string, string>();
  private readonly counts: AuditCounts = { committed: 0, revealed: 0, verified: 0, mismatched: 0, pending: 0, expired: 0 };

  /** `maxPending` bounds memory: the oldest unrevealed commitment is dropped (counted as expired) beyond it. */
  constructor(private readonly maxPending = 4096) {}

  commit(id: string, commitment: string): void {
    if (!this.pending.has(id)) this.counts.committed++;
    this.pending.set(id, commitment);
    while (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.counts.expired++;
    }
  }

  check(reveal: RevealMessage): RevealCheck {
    const out: RevealCheck = { verified: [], mismatched: [] };
    for (const item of reveal.items) {
      const expected = this.pending.get(item.id);
      if (expected === undefined) out.mismatched.push({ id: item.id, reason: 'unknown' });
      else if (commitmentFor(item.id, item.label, item.salt) !== expected)
        out.mismatched.push({ id: item.id, reason: 'commitment' });
      else out.verified.push({ id: item.id, label: item.label });
      this.pending.delete(item.id);
    }
    this.counts.revealed += reveal.items.length;
    this.counts.verified += out.verified.length;
    this.counts.mismatched += out.mismatched.length;
    return out;
  }

  snapshot(): AuditCounts {
    return { ...this.counts, pending: this.pending.size };
  }
}

/** The non-fatal `error` a miner sends back for a revealed item that does not match (E_REVEAL_MISMATCH). */
export function revealMismatchFor(m: { id: string; reason: MismatchReason }, window: string): ErrorMessage {
  const why =
    m.reason === 'unknown'
      ? `revealed in window ${window}, but no challenge with this id was received`
      : `revealed label and salt of window ${window} do not hash to the commitment sent with the challenge`;
  return { v: PROTOCOL_VERSION, type: 'error', code: ErrorCode.RevealMismatch, message: why, ref: m.id };
}
