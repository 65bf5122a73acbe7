import fs from 'node:fs';
import { RayonError, type FieldError } from '../core/errors.js';
import { parseRateLimits, type RateLimitConfig } from '../http/rate-limit.js';
import { DEFAULT_REVOCATION_REFRESH_MS } from '../http/revocations.js';

/**
 * The HTTP mode's settings (`rayon serve`) and the token signing settings (`rayon token issue`),
 * part of the configuration layer (src/config.ts): resolved once from the defaults, the
 * environment and the `serve` flags (defaults < environment < flags); every problem is reported
 * together, each naming its variable or flag. Nothing else in src/ reads these variables.
 * A module of its own, loaded by the commands that need it: it reads the rate-limit rules of
 * src/http/rate-limit.ts, which loads the Redis client.
 */
export interface ServeConfig {
  host: string;
  port: number;
  auth: AuthConfig;
  rateLimits: RateLimitConfig;
  redisUrl?: string;
  /** Key prefix of the shared buckets, so several deployments can share one Redis. */
  redisPrefix: string;
  poolMax: number;
  /** How often aggregated request statistics are written to the database. */
  statsFlushMs: number;
  /** RAYON_CATALOG_TOTAL_TTL_S: how long a catalog page total may be reused. */
  catalogTotalTtlMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** RAYON_REVOCATION_REFRESH_MS: how often the revoked token ids are re-read. */
  revocationRefreshMs: number;
  /** How long a request may run and hold connections, and how many clients may be connected. */
  limits: ServerLimits;
}

export interface ServerLimits {
  /** RAYON_REQUEST_TIMEOUT_MS: a request not answered by then is answered 503 UNAVAILABLE. */
  requestTimeoutMs: number;
  /** RAYON_MAX_CONNECTIONS: client connections open at once; more are closed at once. */
  maxConnections: number;
  /** RAYON_KEEP_ALIVE_TIMEOUT_MS: how long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
}

export interface AuthConfig {
  /** HS256 key: the UTF-8 bytes of RAYON_JWT_SECRET (at least 32); absent when HS256 is refused. */
  secret?: Uint8Array;
  issuer?: string;
  audience?: string;
  /** Optional asymmetric verification (RS256/ES256) for tokens the accounts system signs. */
  publicKeyPem?: string;
  publicKeyAlg?: 'RS256' | 'ES256';
  jwks?: { keys: unknown[] };
  /** RAYON_JWT_ALLOW_HS256=1: HS256 tokens accepted next to a public key or JWKS. */
  allowHs256?: boolean;
}

export interface ServeFlags {
  host?: string;
  port?: string;
}

export const MIN_SECRET_BYTES = 32;

/**
 * Resolve only what signing and verifying tokens need. For `serve`, RAYON_JWT_SECRET is read
 * only when HS256 tokens are accepted (no public key or JWKS, or RAYON_JWT_ALLOW_HS256=1):
 * otherwise it is not required, and ignored. For `sign` (`rayon token issue`, which mints HS256
 * tokens) the secret is required, and minting is refused where the HTTP mode would refuse them.
 */
export function resolveAuthConfig(env: NodeJS.ProcessEnv = process.env, errors: FieldError[], purpose: 'serve' | 'sign' = 'serve'): AuthConfig {
  const auth: AuthConfig = { issuer: env.RAYON_JWT_ISSUER || undefined, audience: env.RAYON_JWT_AUDIENCE || undefined };
  if (env.RAYON_JWT_PUBLIC_KEY_FILE) {
    try {
      auth.publicKeyPem = fs.readFileSync(env.RAYON_JWT_PUBLIC_KEY_FILE, 'utf8');
    } catch (err) {
      errors.push({ where: 'RAYON_JWT_PUBLIC_KEY_FILE', message: `cannot be read: ${(err as Error).message}` });
    }
    const alg = env.RAYON_JWT_PUBLIC_KEY_ALG || 'RS256';
    if (alg !== 'RS256' && alg !== 'ES256') errors.push({ where: 'RAYON_JWT_PUBLIC_KEY_ALG', message: `must be RS256 or ES256, got ${alg}` });
    else auth.publicKeyAlg = alg;
  }
  if (env.RAYON_JWT_JWKS_FILE) {
    try {
      const parsed = JSON.parse(fs.readFileSync(env.RAYON_JWT_JWKS_FILE, 'utf8')) as { keys?: unknown };
      if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
      auth.jwks = { keys: parsed.keys };
    } catch (err) {
      errors.push({ where: 'RAYON_JWT_JWKS_FILE', message: `is not a readable JWKS file: ${(err as Error).message}` });
    }
    // Keys shared with other services: only a token meant for this server may pass.
    if (!auth.audience) errors.push({ where: 'RAYON_JWT_AUDIENCE', message: 'is required when RAYON_JWT_JWKS_FILE is set (tokens must name this server in "aud")' });
  }
  const allow = env.RAYON_JWT_ALLOW_HS256 ?? '';
  if (!['', '0', '1'].includes(allow)) errors.push({ where: 'RAYON_JWT_ALLOW_HS256', message: `must be 1 or 0, got ${JSON.stringify(allow)}` });
  auth.allowHs256 = allow === '1';
  const asymmetric = Boolean(env.RAYON_JWT_PUBLIC_KEY_FILE || env.RAYON_JWT_JWKS_FILE);
  const hs256 = !asymmetric || auth.allowHs256;
  if (purpose === 'sign' && !hs256) {
    errors.push({ where: 'RAYON_JWT_ALLOW_HS256', message: 'is not 1: with RAYON_JWT_PUBLIC_KEY_FILE or RAYON_JWT_JWKS_FILE set, the HTTP mode refuses HS256 tokens, so none is issued' });
  }
  if (purpose === 'sign' || hs256) {
    const secretText = env.RAYON_JWT_SECRET ?? '';
    const secret = new TextEncoder().encode(secretText);
    const why = purpose === 'sign' ? 'to sign tokens' : asymmetric ? 'with RAYON_JWT_ALLOW_HS256=1' : 'unless RAYON_JWT_PUBLIC_KEY_FILE or RAYON_JWT_JWKS_FILE is set';
    if (!secretText) errors.push({ where: 'RAYON_JWT_SECRET', message: `is required (at least ${MIN_SECRET_BYTES} bytes) ${why}` });
    else if (secret.byteLength < MIN_SECRET_BYTES) {
      errors.push({ where: 'RAYON_JWT_SECRET', message: `must be at least ${MIN_SECRET_BYTES} bytes, got ${secret.byteLength}` });
    }
    auth.secret = secret;
  }
  return auth;
}

function intSetting(text: string | undefined, where: string, def: number, min: number, max: number, errors: FieldError[]): number {
  if (text === undefined || text === '') return def;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    errors.push({ where, message: `must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}` });
    return def;
  }
  return Number(text);
}

export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const errors: FieldError[] = [];
  const auth = resolveAuthConfig(env, errors);
  const port = intSetting(flags.port ?? env.RAYON_PORT, flags.port ? '--port' : 'RAYON_PORT', 8080, 0, 65535, errors);
  let rateLimits: RateLimitConfig = parseRateLimits(undefined);
  try {
    rateLimits = parseRateLimits(env.RAYON_RATE_LIMITS);
  } catch (err) {
    errors.push({ where: 'RAYON_RATE_LIMITS', message: (err as Error).message });
  }
  const redisUrl = env.RAYON_REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) errors.push({ where: 'RAYON_REDIS_URL', message: 'must be a redis:// or rediss:// URL' });
  const logLevel = (env.RAYON_LOG_LEVEL || 'warn') as ServeConfig['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'silent'].includes(logLevel)) {
    errors.push({ where: 'RAYON_LOG_LEVEL', message: 'must be one of fatal, error, warn, info, debug, silent' });
  }
  const poolMax = intSetting(env.RAYON_POOL_MAX, 'RAYON_POOL_MAX', 8, 1, 500, errors);
  const config: ServeConfig = {
    host: flags.host ?? env.RAYON_HOST ?? '127.0.0.1',
    port,
    auth,
    rateLimits,
    redisUrl,
    redisPrefix: env.RAYON_REDIS_PREFIX || 'rayon:rl:',
    poolMax,
    statsFlushMs: intSetting(env.RAYON_STATS_FLUSH_MS, 'RAYON_STATS_FLUSH_MS', 10_000, 100, 3_600_000, errors),
    catalogTotalTtlMs: intSetting(env.RAYON_CATALOG_TOTAL_TTL_S, 'RAYON_CATALOG_TOTAL_TTL_S', 5, 0, 3600, errors) * 1000,
    logLevel,
    revocationRefreshMs: intSetting(env.RAYON_REVOCATION_REFRESH_MS, 'RAYON_REVOCATION_REFRESH_MS', DEFAULT_REVOCATION_REFRESH_MS, 100, 30_000, errors),
    limits: resolveServerLimits(env, poolMax, errors),
  };
  if (errors.length) {
    throw new RayonError('VALIDATION_ERROR', `cannot start the HTTP mode: ${errors.map((e) => `${e.where} ${e.message}`).join('; ')}`, { details: errors });
  }
  return config;
}

/** Connections per pooled database connection, by default: each waits at most the deadline. */
const CONNECTIONS_PER_POOL_SLOT = 64;

function resolveServerLimits(env: NodeJS.ProcessEnv, poolMax: number, errors: FieldError[]): ServerLimits {
  return {
    requestTimeoutMs: intSetting(env.RAYON_REQUEST_TIMEOUT_MS, 'RAYON_REQUEST_TIMEOUT_MS', 10_000, 100, 600_000, errors),
    maxConnections: intSetting(env.RAYON_MAX_CONNECTIONS, 'RAYON_MAX_CONNECTIONS', poolMax * CONNECTIONS_PER_POOL_SLOT, 1, 1_000_000, errors),
    keepAliveTimeoutMs: intSetting(env.RAYON_KEEP_ALIVE_TIMEOUT_MS, 'RAYON_KEEP_ALIVE_TIMEOUT_MS', 10_000, 100, 600_000, errors),
  };
}
