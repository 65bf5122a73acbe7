import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { makeVerifier } from '../../src/http/auth.js';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { makeUser } from '../helpers/fixtures.js';
import { AUTH, SECRET, call, startServer } from './helpers.js';

/** The built CLI with the test secret (a variable given as undefined is removed). */
const cli = (args: string[], env: Record<string, string | undefined> = {}, timeout?: number) => rayon(args, { RAYON_JWT_SECRET: SECRET, ...env }, { timeout });

beforeAll(() => assertBuilt());

describe('rayon token issue (built CLI)', () => {
  it('prints a token the server accepts, with the role, subject and lifetime asked for', { timeout: 240_000 }, async () => {
    const r = await cli(['token', 'issue', 'checkout', '--role', 'service', '--ttl', '15m']);
    expect(r.code).toBe(0);
    const tok = r.stdout.trim();
    expect(await (await makeVerifier(AUTH)).verify(tok)).toEqual({ sub: 'checkout', role: 'service' });
    const claims = decodeJwt(tok);
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(r.stderr).toContain('service token for checkout');
  });

  it('--json gives the token and its expiry; issuer and audience are applied when configured', { timeout: 240_000 }, async () => {
    const r = await cli(['--json', 'token', 'issue', 'alice'], { RAYON_JWT_ISSUER: 'accounts', RAYON_JWT_AUDIENCE: 'rayon' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ sub: 'alice', role: 'user', expires_at: expect.stringMatching(/Z$/) });
    expect(decodeJwt(out.token)).toMatchObject({ iss: 'accounts', aud: 'rayon', role: 'user' });
  });

  it('refuses a short or missing secret, a bad ttl, a bad role and a non-user-id subject (exit 2)', { timeout: 240_000 }, async () => {
    const short = await cli(['token', 'issue', 'alice'], { RAYON_JWT_SECRET: 'short' });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('RAYON_JWT_SECRET');
    expect(short.stdout).toBe('');
    const ttl = await cli(['token', 'issue', 'alice', '--ttl', 'forever']);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toContain('--ttl');
    expect((await cli(['token', 'issue', 'alice', '--role', 'root'])).code).toBe(2);
    const sub = await cli(['token', 'issue', 'not a user id']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('user id');
  });

  it('rayon serve refuses to start without a secret of at least 32 bytes', { timeout: 240_000 }, async () => {
    const r = await cli(['serve', '--port', '0'], { RAYON_JWT_SECRET: undefined, RAYON_DATA_DIR: '/nonexistent-rayon-dir' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('RAYON_JWT_SECRET is required');
  });
});

describe('rayon token issue: lifetime caps and jti (built CLI)', () => {
  it('refuses a user token over 30d and a service or admin token over 24h (exit 2, naming --ttl and the cap)', { timeout: 240_000 }, async () => {
    const [user, service, admin] = await Promise.all([
      cli(['token', 'issue', 'u1', '--ttl', '31d']),
      cli(['token', 'issue', 'checkout', '--role', 'service', '--ttl', '25h']),
      cli(['token', 'issue', 'ops', '--role', 'admin', '--ttl', '2d']),
    ]);
    expect(user.code).toBe(2);
    expect(user.stdout).toBe('');
    expect(user.stderr).toContain('--ttl 31d is longer than the 30d cap of user tokens');
    expect(service.code).toBe(2);
    expect(service.stderr).toContain('--ttl 25h is longer than the 24h cap of service tokens');
    expect(admin.code).toBe(2);
    expect(admin.stderr).toContain('24h cap of admin tokens');
    const [month, day] = await Promise.all([cli(['token', 'issue', 'u1', '--ttl', '30d']), cli(['token', 'issue', 'checkout', '--role', 'service', '--ttl', '24h'])]);
    expect([month.code, day.code]).toEqual([0, 0]);
  });

  it('every token carries a random jti, printed in --json and on stderr', { timeout: 240_000 }, async () => {
    const [a, b] = await Promise.all([cli(['--json', 'token', 'issue', 'alice']), cli(['token', 'issue', 'alice'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const out = JSON.parse(a.stdout);
    expect(out.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(out.token).jti).toBe(out.jti);
    expect(a.stderr).toContain(`jti ${out.jti}`);
    const other = decodeJwt(b.stdout.trim()).jti;
    expect(other).toMatch(/^[0-9a-f-]{36}$/);
    expect(other).not.toBe(out.jti);
    expect(b.stderr).toContain(`jti ${other}`);
  });

  it('mints nothing where the HTTP mode would refuse HS256; serve refuses a JWKS without RAYON_JWT_AUDIENCE', { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-jwks-'));
    const jwks = path.join(dir, 'jwks.json');
    fs.writeFileSync(jwks, JSON.stringify({ keys: [] }));
    try {
      const [issue, serve] = await Promise.all([
        cli(['token', 'issue', 'alice'], { RAYON_JWT_JWKS_FILE: jwks, RAYON_JWT_AUDIENCE: 'rayon' }),
        // Bounded: a server that wrongly starts would otherwise run until the test times out.
        cli(['serve', '--port', '0'], { RAYON_JWT_JWKS_FILE: jwks, RAYON_DATA_DIR: path.join(dir, 'data') }, 60_000),
      ]);
      expect(issue.code).toBe(2);
      expect(issue.stdout).toBe('');
      expect(issue.stderr).toContain('RAYON_JWT_ALLOW_HS256');
      expect(serve.code).toBe(2);
      expect(serve.stderr).toContain('RAYON_JWT_AUDIENCE is required when RAYON_JWT_JWKS_FILE is set');
      const allowed = await cli(['token', 'issue', 'alice'], { RAYON_JWT_JWKS_FILE: jwks, RAYON_JWT_AUDIENCE: 'rayon', RAYON_JWT_ALLOW_HS256: '1' });
      expect(allowed.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeMultiConnection('rayon token revoke (built CLI, PostgreSQL)', () => {
  let t: TestDb;
  let db: Record<string, string>;
  beforeAll(async () => {
    t = await createTestDb();
    db = { DATABASE_URL: t.url as string, RAYON_ACTOR: 'ops:ana' };
    await makeUser(t.db.knex, 'alice');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('a running server refuses the revoked token within its refresh window; the other token works; audited once', { timeout: 240_000 }, async () => {
    const s = await startServer(t.db, { revocationRefreshMs: 200 });
    try {
      const [one, two] = await Promise.all([cli(['--json', 'token', 'issue', 'alice']), cli(['--json', 'token', 'issue', 'alice'])]);
      const leaked = JSON.parse(one.stdout);
      const kept = JSON.parse(two.stdout);
      const status = async (tok: string) => (await call(s.url, 'GET', '/api/points/balance', { token: tok })).status;
      expect([await status(leaked.token), await status(kept.token)]).toEqual([200, 200]);

      const r = await cli(['token', 'revoke', leaked.jti, '--reason', 'posted in a public channel', '--expires-at', leaked.expires_at], db);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`Token ${leaked.jti} revoked until ${leaked.expires_at}`);
      const revokedAt = Date.now();
      while ((await status(leaked.token)) !== 401 && Date.now() - revokedAt < 10_000) await new Promise((res) => setTimeout(res, 25));
      expect(Date.now() - revokedAt).toBeLessThan(5_000);
      expect(await status(leaked.token)).toBe(401);
      expect(await status(kept.token)).toBe(200);

      const again = await cli(['--json', 'token', 'revoke', leaked.jti, '--reason', 'again'], db);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('was already revoked');
      expect(JSON.parse(again.stdout)).toMatchObject({ jti: leaked.jti, actor: 'ops:ana', reason: 'posted in a public channel', already_revoked: true });
      const audit = await t.db.knex('audit_log').where({ action: 'token.revoke' });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: 'ops:ana', target: `token:${leaked.jti}`, details: { reason: 'posted in a public channel', expires_at: leaked.expires_at } });
    } finally {
      await s.close();
    }
  });

  it('without --reason, with an empty one or an --expires-at in the past: exit 2, nothing stored', { timeout: 240_000 }, async () => {
    const [none, empty, past] = await Promise.all([
      cli(['token', 'revoke', 'some-jti'], db),
      cli(['token', 'revoke', 'some-jti', '--reason', '  '], db),
      cli(['token', 'revoke', 'some-jti', '--reason', 'r', '--expires-at', '2020-01-01T00:00:00Z'], db),
    ]);
    expect([none.code, empty.code, past.code]).toEqual([2, 2, 2]);
    expect(none.stderr).toContain('--reason');
    expect(empty.stderr).toContain('reason is required');
    expect(past.stderr).toContain('--expires-at');
    expect(await t.db.knex('token_revocations').where({ jti: 'some-jti' }).first()).toBeUndefined();
  });
});
