import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { AUTH, SECRET, call, startServer, type Running } from './helpers.js';
import { issueToken } from '../../src/http/auth.js';
import { resolveAuthConfig, resolveServeConfig, type AuthConfig } from '../../src/config/serve.js';
import { createServer } from '../../src/http/server.js';
import { parseRateLimits } from '../../src/http/rate-limit.js';
import { revokeToken } from '../../src/core/tokens/index.js';
import type { FieldError } from '../../src/core/errors.js';

// Tokens (SPEC "Security and safety"): HS256 next to asymmetric keys, the JWKS audience, and
// revocation by jti on a running server.
const NOW = '2026-11-25T08:00:00Z';
let t: TestDb;
let dir: string;
let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

beforeAll(async () => {
  t = await createTestDb();
  await makeUser(t.db.knex, 'bob');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-keys-'));
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  fs.writeFileSync(path.join(dir, 'rsa.pem'), await exportSPKI(rsa.publicKey));
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256', use: 'sig' }] }));
});
afterAll(async () => {
  await t?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const authFrom = (env: Record<string, string>): AuthConfig => {
  const errors: FieldError[] = [];
  const auth = resolveAuthConfig({ RAYON_JWT_SECRET: SECRET, ...env }, errors);
  expect(errors).toEqual([]);
  return auth;
};
const jwksEnv = () => ({ RAYON_JWT_JWKS_FILE: path.join(dir, 'jwks.json'), RAYON_JWT_AUDIENCE: 'rayon' });
const pemEnv = () => ({ RAYON_JWT_PUBLIC_KEY_FILE: path.join(dir, 'rsa.pem'), RAYON_JWT_PUBLIC_KEY_ALG: 'RS256' });
const hs256 = async (audience?: string) => (await issueToken({ ...AUTH, audience }, { sub: 'platform', role: 'service', ttlSeconds: 600 })).token;
const claims = () => new SignJWT({ role: 'service' }).setSubject('accounts').setExpirationTime(inAnHour());

async function withServer<T>(auth: AuthConfig, fn: (get: (tok: string) => Promise<{ status: number; body: any }>) => Promise<T>): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const s = await startServer(t.db, { now: NOW, auth });
  try {
    return await fn(async (tok) => {
      const a = await call(s.url, 'GET', '/api/points/balance?user_id=bob', { token: tok });
      return { status: a.status, body: a.body };
    });
  } finally {
    await s.close();
  }
}

describe('HS256 next to a public key or a JWKS', () => {
  it('with a JWKS, an HS256 token is 401 UNAUTHENTICATED; accepted with RAYON_JWT_ALLOW_HS256=1', async () => {
    await withServer(authFrom(jwksEnv()), async (get) => {
      const refused = await get(await hs256('rayon'));
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('algorithm') } });
      expect((await get(await claims().setAudience('rayon').setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey))).status).toBe(200);
    });
    await withServer(authFrom({ ...jwksEnv(), RAYON_JWT_ALLOW_HS256: '1' }), async (get) => {
      expect((await get(await hs256('rayon'))).status).toBe(200);
    });
  });

  it('with a public key, an HS256 token is 401 UNAUTHENTICATED; accepted with RAYON_JWT_ALLOW_HS256=1', async () => {
    await withServer(authFrom(pemEnv()), async (get) => {
      const refused = await get(await hs256());
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('UNAUTHENTICATED');
      expect((await get(await claims().setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey))).status).toBe(200);
    });
    await withServer(authFrom({ ...pemEnv(), RAYON_JWT_ALLOW_HS256: '1' }), async (get) => {
      expect((await get(await hs256())).status).toBe(200);
    });
  });

  it('with HS256 refused, RAYON_JWT_SECRET is neither required nor kept; with RAYON_JWT_ALLOW_HS256=1 it is required', () => {
    const cfg = resolveServeConfig({}, pemEnv());
    expect(cfg.auth.secret).toBeUndefined();
    expect(resolveServeConfig({}, { ...pemEnv(), RAYON_JWT_SECRET: SECRET }).auth.secret).toBeUndefined();
    expect(() => resolveServeConfig({}, { ...pemEnv(), RAYON_JWT_ALLOW_HS256: '1' })).toThrow(/RAYON_JWT_SECRET is required .*with RAYON_JWT_ALLOW_HS256=1/);
    expect(() => resolveServeConfig({}, { ...pemEnv(), RAYON_JWT_ALLOW_HS256: 'yes' })).toThrow(/RAYON_JWT_ALLOW_HS256 must be 1 or 0/);
  });
});

describe('JWKS: aud is required and checked', () => {
  it('a JWKS-signed token without aud, or with another aud, is 401', async () => {
    await withServer(authFrom(jwksEnv()), async (get) => {
      const es = (j: SignJWT) => j.setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey);
      const noAud = await get(await es(claims()));
      expect(noAud.status).toBe(401);
      expect(noAud.body.error).toEqual({ code: 'UNAUTHENTICATED', message: expect.stringContaining('"aud"') });
      expect((await get(await es(claims().setAudience('another-service')))).status).toBe(401);
      expect((await get(await es(claims().setAudience('rayon')))).status).toBe(200);
    });
  });

  it('the server refuses to start with a JWKS and no RAYON_JWT_AUDIENCE, naming the variable', async () => {
    const { RAYON_JWT_JWKS_FILE } = jwksEnv();
    expect(() => resolveServeConfig({}, { RAYON_JWT_JWKS_FILE })).toThrow(/RAYON_JWT_AUDIENCE is required when RAYON_JWT_JWKS_FILE is set/);
    const errors: FieldError[] = [];
    const auth = resolveAuthConfig({ RAYON_JWT_JWKS_FILE }, errors);
    expect(errors.map((e) => e.where)).toEqual(['RAYON_JWT_AUDIENCE']);
    const start = createServer({ db: t.db, auth, rateLimits: parseRateLimits('off'), now: () => new Date(NOW), logLevel: 'silent' });
    await expect(start).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('RAYON_JWT_AUDIENCE') });
  });
});

describe('revocation on a running server', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer(t.db, { now: NOW, revocationRefreshMs: 150 });
  });
  afterAll(async () => {
    await s?.close();
  });
  const status = async (tok: string) => (await call(s.url, 'GET', '/api/points/balance?user_id=bob', { token: tok })).status;

  it('a revoked token is refused within the refresh window (remembered or not); another token still works', async () => {
    const leaked = await issueToken(AUTH, { sub: 'platform', role: 'service', ttlSeconds: 600 });
    const other = await issueToken(AUTH, { sub: 'platform', role: 'service', ttlSeconds: 600 });
    expect(await status(leaked.token)).toBe(200); // now remembered by the verifier
    expect(await status(other.token)).toBe(200);
    const r = await revokeToken(t.db.knex, { jti: leaked.jti, reason: 'leaked in a ticket', actor: 'ops', now: new Date(), expiresAt: new Date(leaked.expires_at) });
    expect(r.created).toBe(true);
    const revokedAt = Date.now();
    let refusedAfterMs = -1;
    while (Date.now() - revokedAt < 10_000) {
      if ((await status(leaked.token)) === 401) {
        refusedAfterMs = Date.now() - revokedAt;
        break;
      }
      await new Promise((res) => setTimeout(res, 25));
    }
    expect(refusedAfterMs).toBeGreaterThanOrEqual(0);
    expect(refusedAfterMs).toBeLessThan(5_000);
    const a = await call(s.url, 'GET', '/api/points/balance?user_id=bob', { token: leaked.token });
    expect(a.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'the token has been revoked' } });
    expect(await status(other.token)).toBe(200);
    // A server started after the revocation refuses it from its first request.
    const fresh = await startServer(t.db, { now: NOW });
    try {
      expect((await call(fresh.url, 'GET', '/api/points/balance?user_id=bob', { token: leaked.token })).status).toBe(401);
      expect((await call(fresh.url, 'GET', '/api/points/balance?user_id=bob', { token: other.token })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('a token without a jti (minted by another system) still works; a jti that is not a string is 401', async () => {
    const noJti = await new SignJWT({ role: 'service' }).setProtectedHeader({ alg: 'HS256' }).setSubject('p').setExpirationTime(inAnHour()).sign(AUTH.secret);
    expect(await status(noJti)).toBe(200);
    const numeric = await new SignJWT({ role: 'service', jti: 42 } as Record<string, unknown>).setProtectedHeader({ alg: 'HS256' }).setSubject('p').setExpirationTime(inAnHour()).sign(AUTH.secret);
    expect(await status(numeric)).toBe(401);
  });

  it('revoking twice keeps the first revocation and writes one audit row', async () => {
    const tok = await issueToken(AUTH, { sub: 'bob', role: 'user', ttlSeconds: 600 });
    const first = await revokeToken(t.db.knex, { jti: tok.jti, reason: 'lost phone', actor: 'ops:ana', now: new Date() });
    const again = await revokeToken(t.db.knex, { jti: tok.jti, reason: 'second try', actor: 'ops:leo', now: new Date() });
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, revocation: first.revocation });
    expect(first.revocation.expires_at.getTime() - first.revocation.revoked_at.getTime()).toBe(30 * 86_400_000);
    const rows = await t.db.knex('audit_log').where({ action: 'token.revoke', target: `token:${tok.jti}` });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'ops:ana', details: { reason: 'lost phone' } });
  });

  it('the database keeps revocations: no update, no delete while they matter, no truncate', async () => {
    const tok = await issueToken(AUTH, { sub: 'bob', role: 'user', ttlSeconds: 600 });
    await revokeToken(t.db.knex, { jti: tok.jti, reason: 'test', actor: 'ops', now: new Date() });
    const k = t.db.knex;
    await expect(k('token_revocations').where({ jti: tok.jti }).update({ expires_at: new Date(Date.now() + 1000) })).rejects.toThrow(/insert-only: UPDATE refused/);
    await expect(k('token_revocations').where({ jti: tok.jti }).delete()).rejects.toThrow(/insert-only: DELETE refused/);
    await expect(k.raw('truncate token_revocations')).rejects.toThrow(/append-only/);
    expect(await k('token_revocations').where({ jti: tok.jti }).first()).toBeDefined();
  });
});
