import os from 'node:os';
import path from 'node:path';
import { RayonError, type FieldError } from './core/errors.js';
import { parseInstant } from './core/time.js';

/**
 * Configuration, resolved once: defaults < environment < flags. All problems are reported
 * together; nothing below this layer reads process.env. The HTTP mode's and token signing's
 * settings are the layer's other half, src/config/serve.ts, loaded only by the commands that use them.
 */
export interface Config {
  databaseUrl?: string;
  dataDir: string;
  json: boolean;
  yes: boolean;
  actor: string;
  /** Business time fixed by --now / RAYON_NOW, else undefined (the wall clock). */
  fixedNow?: Date;
  color: boolean;
  debug: boolean;
  /** Prompts are possible: stdin is a TTY. */
  interactive: boolean;
  /** FORCE_COLOR: colours even when stderr is not a terminal (unless --no-color / NO_COLOR). */
  forceColor: boolean;
  /** RAYON_REPORT_DATABASE_URL: where `kpi report` reads (a replica); absent means the main database. */
  reportDatabaseUrl?: string;
}

export interface GlobalFlags {
  databaseUrl?: string;
  json?: boolean;
  yes?: boolean;
  actor?: string;
  now?: string;
  color?: boolean;
  debug?: boolean;
}

export function resolveConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env, stdinIsTty = Boolean(process.stdin.isTTY)): Config {
  const errors: FieldError[] = [];
  const nowText = flags.now ?? env.RAYON_NOW;
  let fixedNow: Date | undefined;
  if (nowText) {
    const parsed = parseInstant(nowText);
    if (!parsed) errors.push({ where: flags.now ? '--now' : 'RAYON_NOW', message: `not an ISO instant with a zone (e.g. 2026-11-25T08:00:00Z): ${nowText}` });
    else fixedNow = parsed;
  }
  const databaseUrl = flags.databaseUrl ?? (env.DATABASE_URL || undefined);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    errors.push({ where: flags.databaseUrl ? '--database-url' : 'DATABASE_URL', message: 'must be a postgres:// or postgresql:// URL' });
  }
  const reportDatabaseUrl = env.RAYON_REPORT_DATABASE_URL || undefined;
  if (reportDatabaseUrl && !/^postgres(ql)?:\/\//.test(reportDatabaseUrl)) {
    errors.push({ where: 'RAYON_REPORT_DATABASE_URL', message: 'must be a postgres:// or postgresql:// URL' });
  }
  const actor = flags.actor ?? env.RAYON_ACTOR ?? safeUserName();
  if (!actor || actor.length > 100) errors.push({ where: '--actor', message: 'must be 1-100 characters' });
  if (errors.length) {
    throw new RayonError('VALIDATION_ERROR', `invalid configuration: ${errors.map((e) => `${e.where}: ${e.message}`).join('; ')}`, { details: errors });
  }
  return {
    databaseUrl,
    dataDir: path.resolve(env.RAYON_DATA_DIR || path.join('.rayon', 'data')),
    yes: Boolean(flags.yes),
    actor,
    fixedNow,
    ...outputPrefs(flags, env),
    interactive: stdinIsTty,
    reportDatabaseUrl,
  };
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * A secret named on the command line by its environment variable (`--password-env VAR`): read
 * here, the configuration layer, so it never sits in argv or shell history. Never printed.
 */
export function secretFromEnv(option: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
    throw new RayonError('VALIDATION_ERROR', `${option} must name an environment variable (letters, digits, _), got ${JSON.stringify(name)}`, {
      details: [{ where: option, message: 'not an environment variable name' }],
    });
  }
  const value = env[name];
  if (!value) {
    throw new RayonError('VALIDATION_ERROR', `${option} ${name}: the environment variable ${name} is not set or empty`, {
      details: [{ where: option, message: `${name} is not set` }],
    });
  }
  return value;
}

/**
 * How to print (colours, stacks), from the flags and the environment. Part of resolveConfig, and
 * usable alone: a configuration that fails to resolve is still reported in the colours asked for.
 */
export function outputPrefs(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): Pick<Config, 'json' | 'color' | 'forceColor' | 'debug'> {
  return {
    json: Boolean(flags.json),
    color: flags.color !== false && !env.NO_COLOR && env.FORCE_COLOR !== '0',
    forceColor: Boolean(env.FORCE_COLOR),
    debug: Boolean(flags.debug) || env.RAYON_DEBUG === '1',
  };
}
