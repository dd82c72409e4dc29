import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  commitmentFor,
  commitmentPayloadText,
  decodeText,
  encode,
  ErrorCode,
  type Label,
  LABELS,
  newSalt,
  RevealAudit,
  type RevealMessage,
  revealMismatchFor,
} from './index.js';

const SALT = '00'.repeat(31) + '01';
const reveal = (items: RevealMessage['items'], window = 'w-1'): RevealMessage => ({ v: 2, type: 'reveal', window, items });

describe('label commitments', () => {
  it('is sha256 over the UTF-8 text veracity-commit:v2:<id>:<label>:<salt>, as lowercase hex', () => {
    const text = `veracity-commit:v2:c-1:real:${SALT}`;
    expect(commitmentPayloadText('c-1', 'real', SALT)).toBe(text);
    // Node's own sha256 as the independent reference.
    expect(commitmentFor('c-1', 'real', SALT)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(commitmentFor('c-1', 'real', SALT)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('binds every part: another id, label or salt gives another hash', () => {
    const base = commitmentFor('c-1', 'real', SALT);
    expect(commitmentFor('c-2', 'real', SALT)).not.toBe(base);
    expect(commitmentFor('c-1', 'synthetic', SALT)).not.toBe(base);
    expect(commitmentFor('c-1', 'real', `${'00'.repeat(31)}02`)).not.toBe(base);
  });

  it('draws fresh 32-byte salts', () => {
    const salts = new Set(Array.from({ length: 100 }, newSalt));
    expect(salts.size).toBe(100);
    for (const s of salts) expect(s).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('RevealAudit', () => {
  const labels: readonly Label[] = LABELS;
  const sent = labels.map((label, i) => ({ id: `c-${i}`, label, salt: newSalt() }));

  it('verifies an honest reveal and counts it', () => {
    const audit = new RevealAudit();
    for (const s of sent) audit.commit(s.id, commitmentFor(s.id, s.label, s.salt));
    expect(audit.snapshot()).toMatchObject({ committed: 3, pending: 3, revealed: 0 });
    const r = audit.check(reveal(sent));
    expect(r.mismatched).toEqual([]);
    expect(r.verified).toEqual(sent.map(({ id, label }) => ({ id, label })));
    expect(audit.snapshot()).toEqual({ committed: 3, revealed: 3, verified: 3, mismatched: 0, pending: 0, expired: 0 });
  });

  it('catches a label changed after the fact, a forged salt and an id that was never sent', () => {
    const audit = new RevealAudit();
    for (const s of sent) audit.commit(s.id, commitmentFor(s.id, s.label, s.salt));
    const r = audit.check(
      reveal([
        { ...sent[0]!, label: 'synthetic' }, // relabelled
        { ...sent[1]!, salt: newSalt() }, // salt searched for a better label would not match either
        sent[2]!,
        { id: 'c-never', label: 'real', salt: SALT },
      ]),
    );
    expect(r.verified).toEqual([{ id: 'c-2', label: 'semisynthetic' }]);
    expect(r.mismatched).toEqual([
      { id: 'c-0', reason: 'commitment' },
      { id: 'c-1', reason: 'commitment' },
      { id: 'c-never', reason: 'unknown' },
    ]);
    expect(audit.snapshot()).toMatchObject({ revealed: 4, verified: 1, mismatched: 3, pending: 0 });
  });

  it('a revealed id cannot be verified twice (a replayed reveal counts as unknown)', () => {
    const audit = new RevealAudit();
    audit.commit('c-0', commitmentFor('c-0', 'real', SALT));
    expect(audit.check(reveal([{ id: 'c-0', label: 'real', salt: SALT }])).verified).toHaveLength(1);
    expect(audit.check(reveal([{ id: 'c-0', label: 'real', salt: SALT }])).mismatched).toEqual([
      { id: 'c-0', reason: 'unknown' },
    ]);
  });

  it('bounds memory: beyond maxPending the oldest unrevealed commitments expire', () => {
    const audit = new RevealAudit(10);
    for (let i = 0; i < 25; i++) audit.commit(`c-${i}`, commitmentFor(`c-${i}`, 'real', SALT));
    expect(audit.snapshot()).toMatchObject({ committed: 25, pending: 10, expired: 15 });
    expect(audit.check(reveal([{ id: 'c-24', label: 'real', salt: SALT }])).verified).toHaveLength(1);
    expect(audit.check(reveal([{ id: 'c-0', label: 'real', salt: SALT }])).mismatched).toHaveLength(1);
  });

  it('reports a mismatch as a non-fatal E_REVEAL_MISMATCH error naming the challenge, valid on the wire', () => {
    const m = revealMismatchFor({ id: 'c-0', reason: 'commitment' }, 'w-9');
    expect(m).toMatchObject({ type: 'error', code: ErrorCode.RevealMismatch, ref: 'c-0' });
    expect(m.message).toContain('w-9');
    expect(decodeText(encode(m), undefined, { from: 'miner' })).toMatchObject({ ok: true });
  });
});
