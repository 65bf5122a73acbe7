import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

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

/**
 * Run `node bin/rayon.js ARGS` with no TTY on stdin and a clean environment: no DATABASE_URL,
 * RAYON_* or colour variables from the parent, only what the test passes.
 */
export async function rayon(args: string[], env: Record<string, string> = {}, opts: { cwd?: string; timeout?: number } = {}): Promise<RunResult> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'DATABASE_URL' || k.startsWith('RAYON_') || k === 'FORCE_COLOR' || k === 'NO_COLOR' || k === 'CI') continue;
    base[k] = v;
  }
  const r = await execa('node', [BIN, ...args], {
    stdin: 'ignore',
    reject: false,
    extendEnv: false,
    env: { ...base, NO_COLOR: '1', RAYON_ACTOR: 'cli-test', ...env },
    cwd: opts.cwd ?? ROOT,
    timeout: opts.timeout ?? 90_000,
    stripFinalNewline: false,
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
