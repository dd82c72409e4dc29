/**
 * Wires the page together: config, the model worker, identity, chain watch and one MinerSession per validator.
 * Holds the view state the UI renders and notifies subscribers on change. The decisions live in core/; this file
 * only connects them to the adapters.
 */
import type { BackendChoice, LoadProgress } from '@veracity/models/web';
import * as Comlink from 'comlink';
import { ChainError, type ChainStatus, ChainWatch } from './adapters/chain.js';
import { browserDial } from './adapters/socket.js';
import { type Account, devAccount, walletAccounts, WalletError, walletSigner } from './adapters/wallet.js';
import { CloseCode, judgeValidator, pAI } from '@veracity/protocol';
import { type MinerConfig, resolveConfig } from './core/config.js';
import { type Explained, explain, type Problem } from './core/errors.js';
import { type DropReason, MinerSession, type SessionState, type TextSigner, TokenBucket } from '@veracity/miner';
import { LatencyWindow } from './core/stats.js';
import type { LoadResult, WorkerApi } from './worker.js';

/** The label audit of one validator: commitments received, reveals checked against them. */
export interface AuditView {
  committed: number;
  revealed: number;
  verified: number;
  mismatched: number;
  pending: number;
}

export interface ValidatorView {
  url: string;
  state: SessionState | 'idle';
  uid?: number;
  answered: number;
  audit: AuditView;
  lastProblem?: Explained;
}

/** A revealed challenge this page answered: the label (verified against its commitment) and how the answer fared. */
export interface ResultView {
  id: string;
  validator: string;
  label: string;
  /** Whether this page's answer called it right (P(AI) >= 0.5 for synthetic and semisynthetic); unset if unanswered. */
  correct?: boolean;
}

const EMPTY_AUDIT: AuditView = { committed: 0, revealed: 0, verified: 0, mismatched: 0, pending: 0 };

export interface View {
  config: MinerConfig;
  configProblems: string[];
  identity: {
    status: 'detecting' | 'choose' | 'ready' | 'none';
    accounts: Account[];
    account?: Account;
    problem?: Explained;
  };
  chain: { status: 'idle' | 'connecting' | 'ok' | 'error'; info?: ChainStatus; problem?: Explained };
  model: {
    status: 'loading' | 'ready' | 'error';
    progress: LoadProgress[];
    loaded?: LoadResult;
    problem?: Explained;
  };
  mining: {
    running: boolean;
    validators: ValidatorView[];
    answered: number;
    dropped: Record<DropReason, number>;
    p50?: number;
    p95?: number;
    series: number[];
    results: ResultView[];
    maxPerMinute: number;
  };
  problems: Array<Explained & { at: number }>;
}

/** How often the chain view is read again without a new-head notification. */
const CHAIN_POLL_MS = 12_000;

// 'auto' is decided in the worker, where the WebGPU adapter can be asked: a software one (SwiftShader) means WASM.
const backendsFor = (choice: MinerConfig['backend']): BackendChoice => (choice === 'auto' ? 'auto' : [choice]);

export class Controller {
  view: View;
  private readonly listeners = new Set<() => void>();
  private worker: Worker | undefined;
  private api: Comlink.Remote<WorkerApi> | undefined;
  private chain: ChainWatch | undefined;
  private unsubscribeBlocks: (() => void) | undefined;
  private signer: TextSigner | undefined;
  private sessions: MinerSession[] = [];
  private readonly latency = new LatencyWindow(500);
  /** P(AI) of this page's recent answers by challenge id, to judge them when their labels are revealed. */
  private readonly answers = new Map<string, number>();
  private readonly throttle: TokenBucket;

  constructor(config: MinerConfig, configProblems: string[]) {
    this.throttle = new TokenBucket(config.maxPerMinute, Date.now());
    this.view = {
      config,
      configProblems,
      identity: { status: 'detecting', accounts: [] },
      chain: { status: 'idle' },
      model: { status: 'loading', progress: [] },
      mining: {
        running: false,
        validators: config.validators.map((url) => ({ url, state: 'idle', answered: 0, audit: EMPTY_AUDIT })),
        answered: 0,
        dropped: { deadline: 0, throttle: 0, closed: 0, error: 0, declined: 0 },
        series: [],
        results: [],
        maxPerMinute: config.maxPerMinute,
      },
      problems: [],
    };
  }

  /** Reads ./config.json (a 404 means built-in defaults) and the query string. */
  static async fromPage(): Promise<Controller> {
    let file: unknown = null;
    const problems: string[] = [];
    try {
      const res = await fetch('./config.json', { cache: 'no-store' });
      if (res.ok) file = await res.json();
      else if (res.status !== 404) problems.push(`config.json: HTTP ${res.status} (ignored)`);
    } catch (e) {
      problems.push(`config.json: ${e instanceof Error ? e.message : String(e)} (ignored)`);
    }
    const resolved = resolveConfig(file, location.search);
    return new Controller(resolved.config, [...problems, ...resolved.problems]);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.view = { ...this.view };
    for (const fn of this.listeners) fn();
  }

  private report(p: Problem): Explained {
    const e = explain({ netuid: this.view.config.netuid, ...p });
    this.view.problems = [{ ...e, at: Date.now() }, ...this.view.problems].slice(0, 8);
    return e;
  }

  // ---- model ---------------------------------------------------------------------------------------------------

  /** Loads the bundle the config names, or `bundle` (a URL, absolute or relative to the page) from then on. */
  async loadModel(bundle?: string): Promise<void> {
    if (bundle !== undefined && bundle.trim() !== '' && bundle.trim() !== this.view.config.bundle)
      this.view.config = { ...this.view.config, bundle: bundle.trim() };
    this.worker?.terminate();
    this.view.model = { status: 'loading', progress: [] };
    this.changed();
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('error', (ev) => {
      this.view.model = {
        ...this.view.model,
        status: 'error',
        problem: this.report({ code: 'E_WORKER_CRASHED', message: ev.message }),
      };
      this.changed();
    });
    this.worker = worker;
    this.api = Comlink.wrap<WorkerApi>(worker);
    const result = await this.api.load(
      {
        bundleUrl: new URL(this.view.config.bundle, location.href).href,
        backends: backendsFor(this.view.config.backend),
        wasmPaths: new URL('./ort/', location.href).href,
      },
      Comlink.proxy((p: LoadProgress) => {
        this.view.model = { ...this.view.model, progress: [...this.view.model.progress, p] };
        this.changed();
      }),
    );
    if (result.ok) {
      const { ok: _ok, ...loaded } = result;
      this.view.model = { ...this.view.model, status: 'ready', loaded };
    } else {
      this.view.model = {
        ...this.view.model,
        status: 'error',
        problem: this.report({ code: result.code, message: result.message }),
      };
    }
    this.changed();
  }

  // ---- identity ------------------------------------------------------------------------------------------------

  async detectWallet(): Promise<void> {
    try {
      const accounts = await walletAccounts();
      const preferred =
        accounts.find((a) => a.address === this.view.config.account) ?? (accounts.length === 1 ? accounts[0] : undefined);
      this.view.identity = { status: 'choose', accounts };
      this.changed();
      if (preferred) await this.chooseAccount(preferred);
    } catch (e) {
      const code = e instanceof WalletError ? e.code : 'E_WALLET_REJECTED';
      this.view.identity = {
        status: 'none',
        accounts: [],
        problem: explain({ code, message: e instanceof Error ? e.message : String(e) }),
      };
      this.changed();
    }
  }

  async chooseAccount(account: Account): Promise<void> {
    this.signer = walletSigner(account);
    this.view.identity = { ...this.view.identity, status: 'ready', account };
    this.changed();
    await this.watchChain(account.address);
  }

  async useDevAccount(uri: string): Promise<void> {
    const dev = await devAccount(uri);
    this.signer = dev.sign;
    this.view.identity = { status: 'ready', accounts: [dev.account], account: dev.account };
    this.changed();
    await this.watchChain(dev.account.address);
  }

  // ---- chain ---------------------------------------------------------------------------------------------------

  private async watchChain(hotkey: string): Promise<void> {
    this.unsubscribeBlocks?.();
    this.view.chain = { status: 'connecting' };
    this.changed();
    try {
      this.chain ??= await ChainWatch.connect(this.view.config.chain, this.view.config.netuid);
      let inFlight = false;
      const refresh = async () => {
        if (this.view.identity.account?.address !== hotkey || !this.chain || inFlight) return;
        inFlight = true;
        try {
          // status() times out by itself: a node that never answers is shown as a problem, not a frozen view.
          this.view.chain = { status: 'ok', info: await this.chain.status(hotkey) };
        } catch (e) {
          this.view.chain = { status: 'error', problem: explain({ code: 'E_CHAIN_UNREACHABLE', message: String(e) }) };
        } finally {
          inFlight = false;
        }
        this.changed();
      };
      await refresh();
      let pending = false;
      const unsubscribe = await this.chain.onBlock(() => {
        // Coalesce bursts of blocks (a local chain builds one per transaction) into one refresh.
        if (pending) return;
        pending = true;
        setTimeout(() => {
          pending = false;
          void refresh();
        }, 300);
      });
      // New-head notifications are not enough on their own: seen in CI, a page's view stayed at one block while the
      // chain moved on (and the weight it was waiting for never showed). A slow poll catches up whatever happened.
      const poll = setInterval(() => void refresh(), CHAIN_POLL_MS);
      this.unsubscribeBlocks = () => {
        unsubscribe();
        clearInterval(poll);
      };
    } catch (e) {
      const code = e instanceof ChainError ? e.code : 'E_CHAIN_UNREACHABLE';
      this.view.chain = { status: 'error', problem: this.report({ code, message: e instanceof Error ? e.message : String(e) }) };
      this.changed();
    }
  }

  // ---- mining --------------------------------------------------------------------------------------------------

  setRate(perMinute: number): void {
    this.throttle.setRate(perMinute, Date.now());
    this.view.mining = { ...this.view.mining, maxPerMinute: this.throttle.perMinute };
    this.changed();
  }

  start(): void {
    const account = this.view.identity.account;
    const sign = this.signer;
    const api = this.api;
    if (!account || !sign || !api || this.view.model.status !== 'ready' || this.view.mining.running) return;
    this.view.mining = { ...this.view.mining, running: true };
    this.sessions = this.view.config.validators.map((url, index) => {
      const update = (patch: Partial<ValidatorView>) => {
        const validators = [...this.view.mining.validators];
        validators[index] = { ...validators[index]!, ...patch };
        this.view.mining = { ...this.view.mining, validators };
        this.changed();
      };
      const session = new MinerSession({
        url,
        netuid: this.view.config.netuid,
        hotkey: account.address,
        sign,
        // The bundle of the moment: a reload of the model is declared at the next handshake.
        bundleSha256: () => this.view.model.loaded?.model.sha256,
        dial: browserDial,
        clock: {
          now: () => Date.now(),
          setTimeout: (fn, ms) => setTimeout(fn, ms),
          clearTimeout: (h) => clearTimeout(h as number),
        },
        throttle: this.throttle,
        // Mine only for validators with a permit and the configured stake, read from the chain at every connection.
        ...(this.view.config.checkValidators
          ? {
              checkValidator: async (hotkey: string) => {
                if (!this.chain) throw new Error(`the chain at ${this.view.config.chain} is not connected`);
                return judgeValidator(await this.chain.validatorStanding(hotkey), {
                  minStake: this.view.config.minValidatorStake,
                });
              },
            }
          : {}),
        answer: async (c) => {
          // The worker of the moment: "Reload the model" replaces it while sessions stay connected.
          const r = await (this.api ?? api).answer(c.media, c.mimes, c.modality, c.deadline - 50);
          if (r.ok === 'expired') return 'expired';
          if (!r.ok) throw Object.assign(new Error(r.message), { code: r.code });
          return { probabilities: r.probabilities, ms: r.ms };
        },
        onEvent: (e) => {
          switch (e.type) {
            case 'state':
              return update({ state: e.state });
            case 'welcome':
              return update({ ...(e.uid === undefined ? {} : { uid: e.uid }), lastProblem: undefined });
            case 'answered':
              this.answers.set(e.id, pAI(e.probabilities));
              if (this.answers.size > 5000) this.answers.delete(this.answers.keys().next().value as string);
              this.latency.add(e.latencyMs);
              this.view.mining = {
                ...this.view.mining,
                answered: this.view.mining.answered + 1,
                series: this.latency.recent(60),
                ...(this.latency.p50() === undefined ? {} : { p50: this.latency.p50() }),
                ...(this.latency.p95() === undefined ? {} : { p95: this.latency.p95() }),
              };
              return update({ answered: (this.view.mining.validators[index]?.answered ?? 0) + 1 });
            case 'dropped': {
              const dropped = { ...this.view.mining.dropped, [e.reason]: this.view.mining.dropped[e.reason] + 1 };
              this.view.mining = { ...this.view.mining, dropped };
              return this.changed();
            }
            case 'result':
              return;
            case 'reveal': {
              const judged: ResultView[] = e.verified.map(({ id, label }) => {
                const ai = this.answers.get(id);
                this.answers.delete(id);
                return {
                  id,
                  validator: url,
                  label,
                  ...(ai === undefined ? {} : { correct: ai >= 0.5 === (label !== 'real') }),
                };
              });
              this.view.mining = {
                ...this.view.mining,
                results: [...judged.reverse(), ...this.view.mining.results].slice(0, 12),
              };
              const { expired: _x, ...audit } = e.audit;
              if (e.mismatched.length > 0) {
                this.report({
                  code: 'E_REVEAL_MISMATCH',
                  message: `${e.mismatched.length} revealed label(s) in ${e.window} do not match the commitments sent with the challenges (${e.mismatched
                    .slice(0, 3)
                    .map((m) => m.id)
                    .join(', ')})`,
                });
              }
              return update({ audit });
            }
            case 'closed':
              if (e.code === CloseCode.Normal) return;
              return update({ lastProblem: this.report({ closeCode: e.code, message: e.reason, hotkey: account.address }) });
            case 'refused':
              return update({ lastProblem: this.report({ code: e.code, message: e.message, hotkey: account.address }) });
            case 'error': {
              const problem = this.report({ code: e.code, message: e.message, hotkey: account.address });
              // A lost GPU does not come back by itself: show the model as failed, with its reload button.
              if (problem.code === 'E_GPU_LOST') this.view.model = { ...this.view.model, status: 'error', problem };
              return update({ lastProblem: problem });
            }
          }
        },
      });
      return session;
    });
    this.changed();
    for (const s of this.sessions) s.start();
  }

  stop(): void {
    for (const s of this.sessions) s.stop();
    this.sessions = [];
    this.view.mining = { ...this.view.mining, running: false };
    this.changed();
  }

  /** The tab came back to the foreground: overdue reconnects and heartbeat checks run now. */
  nudge(): void {
    for (const s of this.sessions) s.nudge();
  }
}
