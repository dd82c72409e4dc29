/**
 * The latent-diffusion autoencoder round trips a validator makes its own AI challenges with (issue 24): the ONNX
 * files `tae.py --export DIR` writes (one `tae-<family>.onnx` per family and `tae.json`), run by onnxruntime-node in
 * a child process.
 *
 * Why a child process: onnxruntime-node runs a session synchronously on the calling thread (a 448 px round trip is
 * seconds of CPU), so in the validator's own process it would stall every socket. A worker thread would keep the
 * event loop free but compete with the per-miner encodes at the same CPU priority; a child process is niced
 * (GENERATOR_NICE), so on a small machine dispatch gets the CPU first and generation takes what is left.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DecodedImage } from './augment.js';

/** Stable codes for generated challenges that cannot be made. */
export const GenerationErrorCode = {
  /** The TAE folder, its tae.json or a model file listed there is missing or does not match. */
  TaeModels: 'E_TAE_MODELS',
  /** The round-trip process failed or exited. */
  TaeRun: 'E_TAE_RUN',
  /** The real-photo pool is missing, empty, or one of its photos cannot be used. */
  RealPool: 'E_REAL_POOL',
} as const;
export type GenerationErrorCode = (typeof GenerationErrorCode)[keyof typeof GenerationErrorCode];

export class GenerationError extends Error {
  override readonly name = 'GenerationError';
  constructor(
    readonly code: GenerationErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface TaeFamily {
  family: string;
  /** What it stands for (e.g. "SDXL"), from tae.json. */
  describes: string;
  /** Absolute path of its ONNX file. */
  path: string;
}

export interface TaeModels {
  dir: string;
  families: TaeFamily[];
  input: string;
  output: string;
}

/**
 * tsx's loader by absolute URL: `--import tsx` would resolve from the working directory, which is wherever the
 * operator ran `npx veracity-validator` from, not this repository.
 */
const TSX_LOADER = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs'),
).href;

/** Niceness of the round-trip process above the validator's: dispatch encodes what miners wait for, so it goes first. */
export const GENERATOR_NICE = 10;

/**
 * Reads `<dir>/tae.json` and checks it: uint8 NCHW in and out, every listed file present and (when tae.json gives
 * one) of the listed SHA-256. Every problem is named at once.
 */
export function loadTaeModels(dir: string): TaeModels {
  const root = resolve(dir);
  const file = join(root, 'tae.json');
  if (!existsSync(file))
    throw new GenerationError(
      GenerationErrorCode.TaeModels,
      `no tae.json in ${root} (export the models: /usr/bin/python3 -m models.train tae --export ${dir})`,
    );
  let meta: {
    input?: { name?: unknown; dtype?: unknown; layout?: unknown };
    output?: { name?: unknown; dtype?: unknown; layout?: unknown };
    families?: Array<{ family?: unknown; describes?: unknown; file?: unknown; sha256?: unknown }>;
  };
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as typeof meta;
  } catch (e) {
    throw new GenerationError(
      GenerationErrorCode.TaeModels,
      `${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const problems: string[] = [];
  for (const side of ['input', 'output'] as const) {
    const t = meta[side];
    if (typeof t?.name !== 'string') problems.push(`${side}.name is missing`);
    if (t?.dtype !== 'uint8' || t?.layout !== 'NCHW') problems.push(`${side} must be uint8 NCHW`);
  }
  const families: TaeFamily[] = [];
  for (const [i, f] of (Array.isArray(meta.families) ? meta.families : []).entries()) {
    if (
      typeof f.family !== 'string' ||
      !/^[a-z0-9-]{1,32}$/.test(f.family) ||
      typeof f.file !== 'string' ||
      /[/\\]/.test(f.file)
    ) {
      problems.push(`families[${i}] needs a family name (a-z, 0-9, -) and a file name in the folder`);
      continue;
    }
    const path = join(root, f.file);
    if (!existsSync(path)) {
      problems.push(`${f.file} (family ${f.family}) is missing`);
      continue;
    }
    if (typeof f.sha256 === 'string' && createHash('sha256').update(readFileSync(path)).digest('hex') !== f.sha256) {
      problems.push(`${f.file} does not match its sha256 in tae.json (re-export the folder)`);
      continue;
    }
    families.push({ family: f.family, describes: typeof f.describes === 'string' ? f.describes : f.family, path });
  }
  if (families.length === 0 && problems.length === 0) problems.push('lists no families');
  if (problems.length > 0) throw new GenerationError(GenerationErrorCode.TaeModels, `${file}: ${problems.join('; ')}`);
  return { dir: root, families, input: meta.input!.name as string, output: meta.output!.name as string };
}

/** Something that round-trips an image through a named family (TaeRunner; the generated source needs only this). */
export interface RoundTripper {
  readonly families: readonly string[];
  roundTrip(family: string, image: DecodedImage): Promise<DecodedImage>;
}

/** What the child process is told at start (argv[2], JSON). */
export interface TaeProcessInit {
  models: TaeModels;
  threads: number;
}
export type TaeRequest = { id: number; family: string; rgb: Uint8Array; width: number; height: number };
export type TaeReply = { id: number; rgb: Uint8Array; seconds: number } | { id: number; error: string };

/** Runs round trips in a niced child process (tae-process.ts); sessions load on a family's first use. */
export class TaeRunner implements RoundTripper {
  readonly families: readonly string[];
  private child?: ChildProcess;
  private nextId = 0;
  private readonly pending = new Map<number, { ok: (r: DecodedImage) => void; fail: (e: Error) => void; w: number; h: number }>();
  /** Request id -> its family, for runSeconds. */
  private readonly lastFamily = new Map<number, string>();
  private closed = false;
  /** Seconds of model run per family, as the child measured them (no queueing or transfer). */
  readonly runSeconds: Record<string, { n: number; seconds: number }> = {};

  /** `nice`: added to the validator's niceness for the round-trip process (0: the same priority, for benchmarks). */
  constructor(
    readonly models: TaeModels,
    private readonly threads = 1,
    private readonly nice = GENERATOR_NICE,
  ) {
    this.families = models.families.map((f) => f.family);
  }

  private spawn(): ChildProcess {
    const init: TaeProcessInit = { models: this.models, threads: this.threads };
    const child = fork(new URL('./tae-process.ts', import.meta.url).pathname, [JSON.stringify(init)], {
      execArgv: ['--import', TSX_LOADER],
      // Structured clone: pixel buffers cross as bytes, not as JSON arrays of numbers.
      serialization: 'advanced',
      // stderr is not the validator's (JSON lines): its tail goes into the error if the process dies.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    try {
      // Relative to the validator's own niceness (which may already be raised), up to the lowest priority, 19.
      if (child.pid !== undefined && this.nice > 0) setPriority(child.pid, Math.min(19, getPriority() + this.nice));
    } catch {
      // Not permitted here (some containers): generation still runs, at the validator's priority.
    }
    child.on('message', (m: TaeReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.hold(child, false);
      if ('error' in m) return p.fail(new GenerationError(GenerationErrorCode.TaeRun, m.error));
      const family = this.lastFamily.get(m.id);
      this.lastFamily.delete(m.id);
      if (family) {
        const s = (this.runSeconds[family] ??= { n: 0, seconds: 0 });
        s.n++;
        s.seconds += m.seconds;
      }
      p.ok({ data: Buffer.from(m.rgb.buffer, m.rgb.byteOffset, m.rgb.byteLength), width: p.w, height: p.h });
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const why = new GenerationError(
        GenerationErrorCode.TaeRun,
        `the round-trip process exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
      );
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.fail(why);
      }
    });
    this.hold(child, false);
    return child;
  }

  /** The round-trip process's pid while one runs (status, tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** An idle child never keeps the validator alive on its own; one with a request out does (the reply is awaited). */
  private hold(child: ChildProcess, busy: boolean): void {
    const channel = (child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
    if (busy) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  }

  /** `image` through `family`'s encoder and decoder; sides must be multiples of 8. */
  roundTrip(family: string, image: DecodedImage): Promise<DecodedImage> {
    if (this.closed) return Promise.reject(new GenerationError(GenerationErrorCode.TaeRun, 'the runner is closed'));
    if (!this.families.includes(family))
      return Promise.reject(new GenerationError(GenerationErrorCode.TaeRun, `no family ${family}`));
    if (image.width % 8 || image.height % 8)
      return Promise.reject(
        new GenerationError(GenerationErrorCode.TaeRun, `${image.width}x${image.height} is not a multiple of 8`),
      );
    // A child that died (killed, out of memory) is started again on the next request.
    this.child ??= this.spawn();
    const id = this.nextId++;
    this.lastFamily.set(id, family);
    return new Promise((ok, fail) => {
      this.pending.set(id, { ok, fail, w: image.width, h: image.height });
      this.hold(this.child!, true);
      const req: TaeRequest = { id, family, rgb: new Uint8Array(image.data), width: image.width, height: image.height };
      this.child!.send(req);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((ok) => {
      child.once('exit', () => ok());
      child.ref(); // held until it has gone, so a caller awaiting close() is not left with an empty event loop
      child.kill('SIGTERM');
    });
  }
}
