/**
 * How every Veracity command line tool answers a missing or bad input (veracity-eval, veracity-dataset,
 * veracity-validator, veracity-miner-node, localnet): one line on stderr naming the problem and its fix, exit code 2,
 * no stack trace. Any other failure is one line and exit code 1. Defined once here; each CLI imports it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit status for bad usage or a bad input (a file that is not there, a value out of range). */
export const EXIT_USAGE = 2;

/** A missing or bad input: what is wrong, and what to run or pass instead. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem} (fix: ${fix})`);
  }
}

/** The one line a CLI prints for a usage error. */
export function usageLine(program: string, e: UsageError): string {
  return `${program}: ${e.problem.replace(/\s*\n\s*/g, ' ')} — fix: ${e.fix}`;
}

/** node:util parseArgs' messages are long and name its own API; say the same in a few words. */
function parseProblem(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument "${quoted}"`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.split(' ')[0] ?? quoted;
    return /does not take an argument/.test(message) ? `${flag} takes no value` : `${flag} needs a value`;
  }
  return message.split('\n')[0]!;
}

/** parseArgs, strict, with its errors turned into a UsageError that points at --help. */
export function parseCli<O extends NonNullable<ParseArgsConfig['options']>>(
  program: string,
  argv: string[],
  options: O,
  helpCommand = `${program} --help`,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(parseProblem(e), `run ${helpCommand} for every option`);
  }
}

/** An optional whole-number flag: undefined when absent, a UsageError naming the flag when not an integer in range. */
export function intFlag(name: string, raw: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `--${name} must be a whole number${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`} (got "${raw}")`,
      `pass e.g. --${name} ${Math.max(min, 1)}`,
    );
  return n;
}

/**
 * Runs a CLI's main: a UsageError becomes its one line and exit 2, any other error one line and exit 1 (the message
 * only: a stack trace tells a user nothing they can act on; VERACITY_DEBUG=1 keeps it for us).
 */
export async function runCli(program: string, main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (process.env.VERACITY_DEBUG) console.error(e);
    if (e instanceof UsageError) {
      process.stderr.write(`${usageLine(program, e)}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`${program}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    process.exit(1);
  }
}
