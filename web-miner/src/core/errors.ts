/**
 * Problems in plain words. Everything the page can show as an error goes through explain(): protocol error codes,
 * WebSocket close codes, model runtime codes and the page's own codes, so wording lives in one table.
 */

import { CloseCode, ErrorCode } from '@veracity/protocol';

/** The page's own stable codes (protocol and runtime codes are reused as they are). */
export const MinerErrorCode = {
  NoWallet: 'E_NO_WALLET',
  WalletRejected: 'E_WALLET_REJECTED',
  NoAccount: 'E_NO_ACCOUNT',
  ChainUnreachable: 'E_CHAIN_UNREACHABLE',
  NoSubnet: 'E_NO_SUBNET',
  NotSubtensor: 'E_NOT_SUBTENSOR',
  Unreachable: 'E_VALIDATOR_UNREACHABLE',
  GpuLost: 'E_GPU_LOST',
  WorkerCrashed: 'E_WORKER_CRASHED',
} as const;
export type MinerErrorCode = (typeof MinerErrorCode)[keyof typeof MinerErrorCode];

export interface Problem {
  /** A stable code (E_…), when one is known. */
  code?: string;
  /** A WebSocket close code, when the problem is a closed connection. */
  closeCode?: number;
  /** The raw technical message, kept as detail. */
  message?: string;
  netuid?: number;
  hotkey?: string;
}

export interface Explained {
  code: string;
  /** One short sentence: what happened. */
  title: string;
  /** What to do about it. */
  action: string;
  /** The technical detail, for bug reports. */
  detail: string;
}

/** RFC 6455's "closed without a close frame": never sent by a peer, reported by the browser for a failed connection. */
export const ABNORMAL_CLOSURE = 1006;

const CLOSE_TO_CODE: Record<number, string> = {
  [ABNORMAL_CLOSURE]: MinerErrorCode.Unreachable,
  [CloseCode.TransportTooLarge]: ErrorCode.TooLarge,
  [CloseCode.Internal]: ErrorCode.Internal,
  [CloseCode.ProtocolViolation]: 'E_PROTOCOL',
  [CloseCode.UnsupportedVersion]: ErrorCode.UnsupportedVersion,
  [CloseCode.AuthFailed]: ErrorCode.AuthFailed,
  [CloseCode.StaleTimestamp]: ErrorCode.StaleTimestamp,
  [CloseCode.UnregisteredHotkey]: ErrorCode.UnregisteredHotkey,
  [CloseCode.TooLarge]: ErrorCode.TooLarge,
  [CloseCode.RateLimited]: ErrorCode.RateLimited,
  [CloseCode.HeartbeatTimeout]: ErrorCode.HeartbeatTimeout,
  [CloseCode.Replaced]: ErrorCode.Replaced,
  [CloseCode.Shutdown]: ErrorCode.Shutdown,
  [CloseCode.HandshakeTimeout]: ErrorCode.HandshakeTimeout,
  [CloseCode.SlowReader]: ErrorCode.SlowReader,
};

type Row = (p: Problem) => { title: string; action: string };

const subnet = (p: Problem) => (p.netuid === undefined ? 'this subnet' : `subnet ${p.netuid}`);
const key = (p: Problem) => (p.hotkey ? `hotkey ${p.hotkey.slice(0, 8)}…` : 'this hotkey');

const TABLE: Record<string, Row> = {
  E_UNREGISTERED_HOTKEY: (p) => ({
    title: `Validator refused: ${key(p)} is not registered on ${subnet(p)}.`,
    action: `Register it (btcli subnet register --netuid ${p.netuid ?? 'N'}) or pick a registered account; the miner retries slowly.`,
  }),
  E_WRONG_NETWORK: (p) => ({
    title: `Wrong network: the validator serves another subnet or is not one this page accepts (expected ${subnet(p)}).`,
    action: 'Check the netuid and validator URL settings (config.json or ?netuid= / ?validator=).',
  }),
  E_AUTH_FAILED: () => ({
    title: 'Validator refused the signature.',
    action: 'Sign with the account you selected; if you did, the wallet may be signing a different message.',
  }),
  E_STALE_TIMESTAMP: () => ({
    title: "Your computer's clock is off by more than 30 seconds.",
    action: 'Turn on automatic time (NTP) in your system settings.',
  }),
  E_UNSUPPORTED_VERSION: () => ({
    title: 'The validator speaks a newer protocol.',
    action: 'Reload the page to get the current miner.',
  }),
  E_REPLACED: () => ({
    title: 'Another miner with this hotkey connected to this validator and took over.',
    action: 'Run one miner per hotkey (close the other tab or process).',
  }),
  E_RATE_LIMITED: () => ({ title: 'The validator is rate-limiting this miner.', action: 'It will retry after a pause.' }),
  E_SHUTDOWN: () => ({ title: 'The validator is restarting.', action: 'The miner reconnects by itself.' }),
  E_HEARTBEAT_TIMEOUT: () => ({
    title: 'The connection went silent.',
    action: 'The miner reconnects by itself; a sleeping computer causes this.',
  }),
  E_HANDSHAKE_TIMEOUT: () => ({
    title: 'The signature did not reach the validator within 10 seconds.',
    action: 'Approve signing requests in your wallet promptly; the miner retries.',
  }),
  E_SLOW_READER: () => ({
    title: 'The validator closed the connection because this page stopped reading it.',
    action: 'The miner reconnects by itself; a busy, throttled or sleeping tab causes this.',
  }),
  E_TOO_LARGE: () => ({ title: 'A message exceeded the size limits.', action: 'The miner reconnects by itself.' }),
  E_PROTOCOL: () => ({ title: 'The validator broke the protocol.', action: 'The miner reconnects; report it to the validator.' }),
  E_INTERNAL: () => ({ title: 'The validator hit an internal error.', action: 'The miner reconnects by itself.' }),
  [MinerErrorCode.Unreachable]: () => ({
    title: 'Cannot reach the validator.',
    action: 'Check the validator URL; the miner keeps retrying with backoff.',
  }),
  [MinerErrorCode.NoWallet]: () => ({
    title: 'No wallet extension found.',
    action: 'Install the polkadot{.js} extension (or Talisman, SubWallet), or use the local development account.',
  }),
  [MinerErrorCode.WalletRejected]: () => ({
    title: 'The wallet refused access or the signature.',
    action: 'Allow this page in your wallet extension and approve the signing request.',
  }),
  [MinerErrorCode.NoAccount]: () => ({
    title: 'The wallet has no accounts this page may use.',
    action: 'Create or import a hotkey in the wallet and allow this page to see it.',
  }),
  [MinerErrorCode.ChainUnreachable]: () => ({
    title: 'Cannot reach the chain node.',
    action: 'Check the chain endpoint (config.json or ?chain=); mining still works, registration cannot be shown.',
  }),
  [MinerErrorCode.NoSubnet]: (p) => ({
    title: `Wrong network: ${subnet(p)} does not exist on this chain.`,
    action: 'Check the netuid and chain settings.',
  }),
  [MinerErrorCode.NotSubtensor]: () => ({
    title: 'Wrong network: the chain endpoint is not a subtensor node.',
    action: 'Point ?chain= at a Bittensor (subtensor) node.',
  }),
  [MinerErrorCode.GpuLost]: () => ({
    title: 'The GPU was lost (driver reset, sleep, or another app took it).',
    action: 'Reload the model; the page falls back to WASM if the GPU does not come back.',
  }),
  [MinerErrorCode.WorkerCrashed]: () => ({
    title: 'The model worker crashed.',
    action: 'Reload the model (out of memory is the usual cause).',
  }),
  E_SHA256_MISMATCH: () => ({
    title: 'The downloaded model does not match its published sha256.',
    action: 'The bundle is corrupt or was tampered with: reload, or ask the host to republish it.',
  }),
  E_MANIFEST_INVALID: () => ({
    title: 'The model manifest is broken.',
    action: 'The bundle is corrupt: ask the host to republish it.',
  }),
  E_BUNDLE_FETCH: () => ({ title: 'Cannot download the model.', action: 'Check the bundle URL and your connection.' }),
  E_BUNDLE_TOO_LARGE: () => ({
    title: 'The model bundle is larger than a published bundle may be (10 MiB).',
    action: 'Point the bundle setting at a smaller bundle; nothing past the cap was downloaded.',
  }),
  E_NO_BACKEND: () => ({
    title: 'Neither WebGPU nor WebAssembly could run the model.',
    action: 'Update the browser; the detail says why each backend failed.',
  }),
  E_INFERENCE: () => ({ title: 'The model failed on a challenge.', action: 'The challenge is skipped; mining continues.' }),
  E_DECODE: () => ({ title: 'A challenge image could not be decoded.', action: 'The challenge is skipped.' }),
  E_VALIDATOR_REFUSED: () => ({
    title: 'This page does not mine for that validator.',
    action:
      'It needs a validator permit and the stake this page requires (minValidatorStake) on the subnet; the detail says what it lacks. The page checks again later.',
  }),
  E_REVEAL_MISMATCH: () => ({
    title: 'The validator revealed labels that do not match what it committed to when it sent the challenges.',
    action:
      'It changed labels after the fact or cannot prove them: consider mining for other validators. The mismatch was reported back to it.',
  }),
  E_LATE_ANSWER: () => ({
    title: 'An answer arrived after the deadline.',
    action: 'Lower the challenges-per-minute cap, or use a faster backend.',
  }),
};

/** Recognises a lost WebGPU device in messages from ORT or the browser (they carry no code). */
export function isGpuLost(message: string): boolean {
  return /device (was )?lost|GPUDevice.*lost|context lost|DXGI_ERROR_DEVICE_REMOVED/i.test(message);
}

export function explain(problem: Problem): Explained {
  let code = problem.code ?? (problem.closeCode === undefined ? undefined : CLOSE_TO_CODE[problem.closeCode]);
  if (problem.message && isGpuLost(problem.message)) code = MinerErrorCode.GpuLost;
  // Close reasons start with the error code (protocol §9): trust it over the numeric close code.
  const fromReason = /^(E_[A-Z0-9_]+)/.exec(problem.message ?? '')?.[1];
  if (fromReason && TABLE[fromReason]) code = fromReason;
  const row = code ? TABLE[code] : undefined;
  const detail = [problem.closeCode === undefined ? '' : `close ${problem.closeCode}`, problem.message ?? '']
    .filter(Boolean)
    .join(': ');
  if (!row) {
    return { code: code ?? 'E_UNKNOWN', title: problem.message || 'Something went wrong.', action: 'Reload the page.', detail };
  }
  return { code: code!, ...row(problem), detail };
}
