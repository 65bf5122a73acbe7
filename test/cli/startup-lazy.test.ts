import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, DIST_CLI, rayon, ROOT } from '../helpers/rayon-cli.js';

/**
 * Start-up is a feature (STYLE 10): `rayon --help`, `rayon <group> --help` and a usage error load
 * no database driver, HTTP server, CSV, Redis, metrics, date or schema library. Each run is
 * recorded by test/helpers/load-recorder.mjs (a node:module resolve hook, plus the CommonJS
 * require cache at exit), and the log is checked for the packages below.
 */

/**
 * Command groups whose files still import their modules at the top. Their own subtree of imports
 * is left out of every check, and for each of them the test asserts that it is still heavy, so
 * this list cannot outlive the conversion: when a group's commands load their modules in their
 * actions, its test fails and asks for its name to be removed here. Empty it as they land.
 */
const PENDING_GROUPS: readonly string[] = [];

const FORBIDDEN = [
  'knex',
  'pg',
  '@electric-sql/pglite',
  'knex-pglite',
  'fastify',
  'csv-parse',
  'csv-stringify',
  'ioredis',
  'prom-client',
  'luxon',
  'ajv',
  'jose',
  '@inquirer/prompts',
] as const;

const RECORDER = path.join(ROOT, 'test/helpers/load-recorder.mjs');
const COMMANDS = pathToFileURL(path.join(ROOT, 'dist/src/commands')).href;

/** The package a resolved URL or file path belongs to, when it is one of FORBIDDEN. */
function forbiddenPackage(where: string): string | undefined {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(where.replaceAll('\\', '/'));
  return m && (FORBIDDEN as readonly string[]).includes(m[1]) ? m[1] : undefined;
}

/** Whether a module URL is one of a group's command files (`commands/user/…` or `commands/serve.js`). */
function inGroup(url: string, group: string): boolean {
  return url.startsWith(`${COMMANDS}/${group}/`) || url === `${COMMANDS}/${group}.js`;
}

interface LoadLog {
  /** Every module resolved through ESM, with who imported it (the entry point has none). */
  edges: { specifier: string; url: string; parent: string | undefined }[];
  /** Every CommonJS file in the require cache at exit (what ESM hooks cannot see on Node 20). */
  cjs: string[];
}

function readLog(file: string): LoadLog {
  const log: LoadLog = { edges: [], cjs: [] };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [kind, ...rest] = line.split('\t');
    if (kind === 'esm') log.edges.push({ specifier: rest[0], url: rest[1], parent: rest[2] === '-' ? undefined : rest[2] });
    else if (kind === 'cjs') log.cjs.push(rest[0]);
  }
  return log;
}

/**
 * The forbidden packages reached from the entry point when the imports into the `skipped`
 * groups' command files are cut. With nothing skipped, the CommonJS require cache counts too.
 */
function forbiddenReached(log: LoadLog, skipped: readonly string[]): string[] {
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const e of log.edges) {
    if (skipped.some((g) => inGroup(e.url, g))) continue;
    if (e.parent === undefined) roots.push(e.url);
    else children.set(e.parent, [...(children.get(e.parent) ?? []), e.url]);
  }
  const seen = new Set<string>(roots);
  const queue = [...roots];
  while (queue.length) for (const next of children.get(queue.shift()!) ?? []) if (!seen.has(next)) seen.add(next), queue.push(next);
  const found = [...seen].map(forbiddenPackage);
  if (skipped.length === 0) found.push(...log.cjs.map(forbiddenPackage));
  return [...new Set(found.filter((p): p is string => p !== undefined))].sort();
}

/** The forbidden packages a group's own command files import, directly or through others. */
function forbiddenUnderGroup(log: LoadLog, group: string): string[] {
  const children = new Map<string, string[]>();
  for (const e of log.edges) if (e.parent) children.set(e.parent, [...(children.get(e.parent) ?? []), e.url]);
  const start = log.edges.filter((e) => inGroup(e.url, group)).map((e) => e.url);
  const seen = new Set(start);
  const queue = [...start];
  while (queue.length) for (const next of children.get(queue.shift()!) ?? []) if (!seen.has(next)) seen.add(next), queue.push(next);
  return [...new Set([...seen].map(forbiddenPackage).filter((p): p is string => p !== undefined))].sort();
}

let dir: string;
let runs = 0;

/** Run the built CLI under the recorder; returns its result and what it loaded. */
async function recorded(args: string[]) {
  const file = path.join(dir, `load-${++runs}.log`);
  const r = await rayon(args, { LOAD_RECORDER_FILE: file }, { nodeArgs: ['--import', pathToFileURL(RECORDER).href] });
  return { ...r, log: readLog(file) };
}

// The group names come from the program itself, so a new group is covered when it is registered.
assertBuilt();
const { buildProgram } = (await import(pathToFileURL(DIST_CLI).href)) as { buildProgram: () => Command };
const GROUPS = buildProgram().commands.map((c) => c.name());

describe('start-up loads no heavy module (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-startup-'));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('knows every pending group by name (a typo would silently skip a real one)', () => {
    expect(GROUPS.length).toBeGreaterThan(10);
    for (const g of PENDING_GROUPS) expect(GROUPS).toContain(g);
  });

  it('rayon --help: the recorder sees commander, and no forbidden package', async () => {
    const r = await recorded(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: rayon');
    // The check can fail: the hook did record the packages the help does load.
    expect(r.log.edges.some((e) => e.specifier === 'commander')).toBe(true);
    expect(r.log.edges.some((e) => e.url.endsWith('/dist/src/cli.js'))).toBe(true);
    expect(forbiddenReached(r.log, PENDING_GROUPS)).toEqual([]);
  });

  it.each(GROUPS)('rayon %s --help', async (group) => {
    const r = await recorded([group, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: rayon ${group}`);
    expect(forbiddenReached(r.log, PENDING_GROUPS)).toEqual([]);
    if (PENDING_GROUPS.includes(group)) {
      expect(forbiddenUnderGroup(r.log, group), `${group} loads its modules lazily now: remove it from PENDING_GROUPS`).not.toEqual([]);
    }
  });

  it('a usage error (a missing required option, an unknown option) exits 2 without loading them', async () => {
    const missing = await recorded(['points', 'adjust']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--reason <text>' not specified");
    expect(forbiddenReached(missing.log, PENDING_GROUPS)).toEqual([]);
    const unknown = await recorded(['points', 'adjust', 'u-1', '5', '--reason', 'r', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    expect(forbiddenReached(unknown.log, PENDING_GROUPS)).toEqual([]);
  });

  it('the recorder catches a command that does load them (a run against a closed port)', async () => {
    const run = await rayon(['ledger', 'verify'], { LOAD_RECORDER_FILE: path.join(dir, 'run.log'), DATABASE_URL: 'postgres://rayon@127.0.0.1:1/none' }, { nodeArgs: ['--import', pathToFileURL(RECORDER).href] });
    expect(run.code).toBe(1);
    expect(forbiddenReached(readLog(path.join(dir, 'run.log')), PENDING_GROUPS)).toEqual(expect.arrayContaining(['knex', 'pg']));
  });
});
