import { type Command, Option } from 'commander';
import type { Config, GlobalFlags } from '../config.js';
import type { Db } from '../db/connect.js';
import { RayonError, mapDbError } from '../core/errors.js';
import type { Output } from './output.js';

// Start-up is a feature (STYLE 10): this module is loaded by every command definition, so it
// imports only what `rayon --help` needs. The configuration layer, the output (chalk), the
// database driver and the prompts are loaded when a command runs.

/** What a command gets: resolved configuration, output, a lazily opened database, the clock. */
export class Ctx {
  private dbPromise?: Promise<Db>;
  constructor(
    readonly config: Config,
    readonly out: Output,
  ) {}

  db(): Promise<Db> {
    this.dbPromise ??= import('../db/connect.js').then(({ openDb }) => openDb({ databaseUrl: this.config.databaseUrl, dataDir: this.config.dataDir }));
    return this.dbPromise;
  }

  /** Business time: --now / RAYON_NOW, else the wall clock. */
  now(): Date {
    return this.config.fixedNow ? new Date(this.config.fixedNow) : new Date();
  }

  get actor(): string {
    return this.config.actor;
  }

  async confirm(question: string): Promise<void> {
    const { confirmOrRefuse } = await import('./prompt.js');
    return confirmOrRefuse(this.config, question);
  }

  async close(): Promise<void> {
    if (!this.dbPromise) return;
    const p = this.dbPromise;
    this.dbPromise = undefined;
    await (await p.catch(() => null))?.close();
  }
}

let lastExitCode = 0;
export function takeExitCode(): number {
  const c = lastExitCode;
  lastExitCode = 0;
  return c;
}

export interface Invocation {
  args: string[];
  opts: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  command: Command;
}

/**
 * Wrap a command body: build the context from the global flags, run, render any error once,
 * and record the exit code (0, or the error's). The body may return an exit code (e.g. 5).
 */
export function action(fn: (ctx: Ctx, inv: Invocation) => Promise<number | void>) {
  return async (...argv: unknown[]): Promise<void> => {
    const command = argv[argv.length - 1] as Command;
    const opts = command.opts();
    const args = argv.slice(0, -2).filter((a): a is string => typeof a === 'string' || Array.isArray(a)).flat() as string[];
    const globals = command.optsWithGlobals() as GlobalFlags;
    const { resolveConfig, outputPrefs } = await import('../config.js');
    const { Output } = await import('./output.js');
    /** Colours on stderr only when it is a terminal, or when FORCE_COLOR asks for them anyway. */
    const outputFor = (p: Pick<Config, 'json' | 'color' | 'forceColor'>) => new Output(p.json, p.color && (Boolean(process.stderr.isTTY) || p.forceColor));
    // Until the whole configuration resolves, print as its output part asks (it cannot fail).
    let prefs = outputPrefs(globals);
    let ctx: Ctx | undefined;
    let out = outputFor(prefs);
    try {
      const config = resolveConfig(globals);
      prefs = config;
      out = outputFor(config);
      ctx = new Ctx(config, out);
      const code = await fn(ctx, { args, opts, command });
      lastExitCode = typeof code === 'number' ? code : 0;
    } catch (err) {
      lastExitCode = reportError(out, err, prefs.debug);
    } finally {
      await ctx?.close();
    }
  };
}

export function reportError(out: Output, raw: unknown, debug: boolean): number {
  let err = mapDbError(raw);
  const pgCode = (err as { code?: string })?.code;
  if (!(err instanceof RayonError) && (pgCode === '42P01' || pgCode === '3F000')) {
    err = new RayonError('UNAVAILABLE', 'the database has no rayon schema yet: run `rayon migrate latest` first', { cause: raw });
  }
  if (err instanceof RayonError) {
    if (out.json) out.data({ error: { code: err.code, message: err.message, details: err.details } });
    out.error(`${err.message}${err.code === 'VALIDATION_ERROR' || err.code === 'CONFIRMATION_REQUIRED' ? '' : ` [${err.code}]`}`);
    // A detail that only repeats the message (one named parameter) is not printed twice.
    const details = (err.details ?? []).filter((d) => err.message !== `${d.where} ${d.message}`);
    for (const d of details) out.info(`  ${d.where}: ${d.message}`);
    if (debug && err.cause) out.info(String((err.cause as Error).stack ?? err.cause));
    return err.exitCode;
  }
  const e = err as Error & { code?: string };
  // knex prefixes driver errors with the whole SQL text: keep the driver's own message only.
  if (e && typeof e.code === 'string' && typeof e.message === 'string' && e.message.includes(' - ')) {
    e.message = e.message.slice(e.message.lastIndexOf(' - ') + 3);
  }
  if (out.json) out.data({ error: { code: 'INTERNAL', message: e?.message ?? String(e) } });
  out.error(`unexpected: ${e?.message ?? String(e)}${debug ? '' : ' (run with --debug for details)'}`);
  if (debug && e?.stack) out.info(e.stack);
  return 1;
}

/** Parse a strictly positive/negative integer option or argument, naming it on failure. */
export function parseIntStrict(value: string, name: string, { allowZero = false, min, max }: { allowZero?: boolean; min?: number; max?: number } = {}): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new RayonError('VALIDATION_ERROR', `${name} must be a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new RayonError('VALIDATION_ERROR', `${name} is out of range: ${value}`);
  if (!allowZero && n === 0) throw new RayonError('VALIDATION_ERROR', `${name} must not be zero`);
  if (min !== undefined && n < min) throw new RayonError('VALIDATION_ERROR', `${name} must be at least ${min}, got ${n}`);
  if (max !== undefined && n > max) throw new RayonError('VALIDATION_ERROR', `${name} must be at most ${max}, got ${n}`);
  return n;
}

/** Add an `Examples:` block to a command's --help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export const dryRunOption = () => new Option('--dry-run', 'show what would change, write nothing');
