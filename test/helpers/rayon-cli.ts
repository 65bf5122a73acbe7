import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin/rayon.js');
export const DIST_CLI = path.join(ROOT, 'dist/src/cli.js');

/** The CLI tests run the built binary: `npm test` builds first; a bare vitest run must say so. */
export function assertBuilt(): void {
  if (!fs.existsSync(DIST_CLI)) {
    throw new Error(`${DIST_CLI} is missing: run \`npm run build\` first (\`npm test\` does it before vitest).`);
  }
}

export interface RunResult {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  timeout?: number;
  /** Text fed on stdin (still not a TTY); without it stdin is closed. */
  input?: string;
  /** Options for node itself, before bin/rayon.js (e.g. `--import` a preload). */
  nodeArgs?: string[];
}

/**
 * The environment of a spawned CLI: the parent's, without DATABASE_URL, RAYON_* or colour
 * variables, so the shell a test runs from cannot change what it sees; then `NO_COLOR=1`,
 * `RAYON_ACTOR=cli-test` and what the test passes (a value of undefined removes the variable).
 */
export function cliEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const merged: Record<string, string | undefined> = { NO_COLOR: '1', RAYON_ACTOR: 'cli-test' };
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'DATABASE_URL' || k.startsWith('RAYON_') || k === 'FORCE_COLOR' || k === 'NO_COLOR' || k === 'CI') continue;
    merged[k] = v;
  }
  Object.assign(merged, env);
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * Run `node bin/rayon.js ARGS` with no TTY on stdin and a clean environment (see cliEnv), and
 * collect its exit code, stdout and stderr.
 */
export async function rayon(args: string[], env: Record<string, string | undefined> = {}, opts: RunOptions = {}): Promise<RunResult> {
  const r = await execa('node', [...(opts.nodeArgs ?? []), BIN, ...args], {
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    reject: false,
    extendEnv: false,
    env: cliEnv(env),
    cwd: opts.cwd ?? ROOT,
    timeout: opts.timeout ?? 90_000,
    stripFinalNewline: false,
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * Start `node bin/rayon.js ARGS` as a long-running process (`rayon serve`), with the same clean
 * environment; its output is streamed, not collected.
 */
export function rayonProcess(args: string[], env: Record<string, string | undefined> = {}, opts: Pick<RunOptions, 'cwd'> = {}): ResultPromise {
  return execa('node', [BIN, ...args], { stdin: 'ignore', reject: false, buffer: false, extendEnv: false, env: cliEnv(env), cwd: opts.cwd ?? ROOT });
}

export const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
