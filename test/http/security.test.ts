import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { AUTH, SECRET, call, makeRewards, startServer, token, type Running } from './helpers.js';
import { resolveAuthConfig, resolveServeConfig } from '../../src/config/serve.js';
import type { FieldError } from '../../src/core/errors.js';
import { issueToken } from '../../src/http/auth.js';

const NOW = '2026-11-25T08:00:00Z';
let t: TestDb;
let s: Running;
let svc: string;
let alice: string;

const txCount = async (user: string) => Number((await t.db.knex('points_transactions').where({ user_id: user }).count({ n: '*' }))[0].n);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

beforeAll(async () => {
  t = await createTestDb();
  s = await startServer(t.db, { now: NOW });
  await makeUser(t.db.knex, 'alice');
  await makeUser(t.db.knex, 'bob');
  svc = await token('platform', 'service');
  alice = await token('alice');
  // bob has points and a redemption: nothing of it may reach alice.
  await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'bob', action_type: 'referral_signup', reference_id: 'bob-ref-1' } });
  const [rid] = await makeRewards(t.db.knex, [{ sku: 'BOBS', cost: 50 }]);
  expect((await call(s.url, 'POST', '/api/rewards/redeem', { token: svc, body: { user_id: 'bob', reward_id: rid } })).status).toBe(200);
});
afterAll(async () => {
  await s?.close();
  await t?.destroy();
});

describe('authentication: every bad token is 401 UNAUTHENTICATED', () => {
  const expect401 = async (authorization: string | undefined) => {
    const a = await call(s.url, 'GET', '/api/points/balance?user_id=bob', { headers: authorization === undefined ? {} : { authorization } });
    expect(a.status).toBe(401);
    expect(a.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    expect(a.text).not.toMatch(/"balance"/);
    return a;
  };

  it('missing header, wrong scheme, garbage', async () => {
    await expect401(undefined);
    await expect401(`Basic ${Buffer.from('a:b').toString('base64')}`);
    await expect401('Bearer not-a-jwt');
    await expect401('Bearer a.b.c');
    await expect401(`Bearer ${svc} extra`);
  });

  it('alg none (unsigned) is refused', async () => {
    await expect401(`Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'platform', role: 'admin', exp: inAnHour() })}.`);
  });

  it('a token signed with another key is refused', async () => {
    const other = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime(inAnHour())
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-000000'));
    await expect401(`Bearer ${other}`);
  });

  it('a tampered payload (user promoted to admin) is refused', async () => {
    const [h, , sig] = alice.split('.');
    await expect401(`Bearer ${h}.${b64({ sub: 'alice', role: 'admin', exp: inAnHour() })}.${sig}`);
  });

  it('expired, or without exp, or without a valid role, is refused', async () => {
    const key = AUTH.secret;
    const expired = await new SignJWT({ role: 'service' }).setProtectedHeader({ alg: 'HS256' }).setSubject('p').setExpirationTime(Math.floor(Date.now() / 1000) - 120).sign(key);
    const a = await expect401(`Bearer ${expired}`);
    expect(a.body.error.message).toContain('expired');
    const noExp = await new SignJWT({ role: 'service' }).setProtectedHeader({ alg: 'HS256' }).setSubject('p').sign(key);
    await expect401(`Bearer ${noExp}`);
    const noRole = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('p').setExpirationTime(inAnHour()).sign(key);
    await expect401(`Bearer ${noRole}`);
    const root = await new SignJWT({ role: 'root' }).setProtectedHeader({ alg: 'HS256' }).setSubject('p').setExpirationTime(inAnHour()).sign(key);
    await expect401(`Bearer ${root}`);
  });

  it('wrong issuer or audience is refused when they are configured', async () => {
    const strict = await startServer(t.db, { now: NOW, auth: { ...AUTH, issuer: 'accounts', audience: 'rayon' } });
    try {
      const sign = (iss?: string, aud?: string) => {
        let j = new SignJWT({ role: 'service' }).setProtectedHeader({ alg: 'HS256' }).setSubject('p').setExpirationTime(inAnHour());
        if (iss) j = j.setIssuer(iss);
        if (aud) j = j.setAudience(aud);
        return j.sign(AUTH.secret);
      };
      const get = async (tok: string) => (await call(strict.url, 'GET', '/api/points/balance?user_id=bob', { token: tok })).status;
      expect(await get(await sign('accounts', 'rayon'))).toBe(200);
      expect(await get(await sign('evil', 'rayon'))).toBe(401);
      expect(await get(await sign('accounts', 'other'))).toBe(401);
      expect(await get(await sign(undefined, 'rayon'))).toBe(401);
    } finally {
      await strict.close();
    }
  });

  it('RS256 (PEM) and ES256 (JWKS) tokens verify; HS256 signed with the public key (algorithm confusion) does not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-keys-'));
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportSPKI(rsa.publicKey);
    fs.writeFileSync(path.join(dir, 'rsa.pem'), pem);
    fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256', use: 'sig' }] }));
    const errors: FieldError[] = [];
    // HS256 allowed alongside, so that algorithm confusion is tried where it could matter.
    const auth = resolveAuthConfig(
      {
        RAYON_JWT_SECRET: SECRET, RAYON_JWT_PUBLIC_KEY_FILE: path.join(dir, 'rsa.pem'), RAYON_JWT_PUBLIC_KEY_ALG: 'RS256', RAYON_JWT_JWKS_FILE: path.join(dir, 'jwks.json'),
        RAYON_JWT_AUDIENCE: 'rayon', RAYON_JWT_ALLOW_HS256: '1',
      },
      errors,
    );
    expect(errors).toEqual([]);
    const asym = await startServer(t.db, { now: NOW, auth });
    try {
      const get = async (tok: string) => (await call(asym.url, 'GET', '/api/points/balance?user_id=bob', { token: tok })).status;
      const claims = () => new SignJWT({ role: 'service' }).setSubject('accounts').setAudience('rayon').setExpirationTime(inAnHour());
      expect(await get(await claims().setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey))).toBe(200);
      expect(await get(await claims().setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey))).toBe(200);
      expect(await get(await claims().setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(pem)))).toBe(401);
      const otherRsa = await generateKeyPair('RS256');
      expect(await get(await claims().setProtectedHeader({ alg: 'RS256' }).sign(otherRsa.privateKey))).toBe(401);
      expect(await get((await issueToken({ ...AUTH, audience: 'rayon' }, { sub: 'platform', role: 'service', ttlSeconds: 600 })).token)).toBe(200); // HS256 allowed
    } finally {
      await asym.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the server refuses to start without a secret of at least 32 bytes', () => {
    expect(() => resolveServeConfig({}, {})).toThrow(/RAYON_JWT_SECRET is required/);
    expect(() => resolveServeConfig({}, { RAYON_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes, got 5/);
    expect(() => resolveServeConfig({}, { RAYON_JWT_SECRET: SECRET })).not.toThrow();
  });

  it('no spelling of an /api path escapes authentication', async () => {
    for (const p of ['/%61pi/points/balance?user_id=bob', '/API/points/balance?user_id=bob', '/api/points/balance/?user_id=bob', '//api/points/balance?user_id=bob', '/api/points/../points/balance?user_id=bob']) {
      const a = await call(s.url, 'GET', p);
      expect([401, 404], p).toContain(a.status);
      expect(a.text, p).not.toMatch(/"balance"/);
    }
  });

  it('authentication is checked before validation', async () => {
    const a = await call(s.url, 'POST', '/api/points/earn', { body: { points: 1000 } });
    expect(a.status).toBe(401);
  });
});

describe("isolation: a user token never reaches another user's data", () => {
  const routes: Array<[string, string, Record<string, unknown> | undefined]> = [
    ['GET', '/api/points/balance?user_id=bob', undefined],
    ['GET', '/api/points/history?user_id=bob', undefined],
    ['GET', '/api/streaks/status?user_id=bob', undefined],
    ['GET', '/api/rewards/history?user_id=bob', undefined],
    ['POST', '/api/points/collect-daily', { user_id: 'bob' }],
    ['POST', '/api/rewards/redeem', { user_id: 'bob', reward_id: 1 }],
    ['POST', '/api/points/earn', { user_id: 'bob', action_type: 'review_posted', reference_id: 'r1' }],
  ];
  for (const [method, url, body] of routes) {
    it(`${method} ${url.split('?')[0]} for bob with alice's token → 403, nothing of bob`, async () => {
      const before = await txCount('bob');
      const a = await call(s.url, method, url, { token: alice, body });
      expect(a.status).toBe(403);
      expect(a.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
      expect(a.text).not.toContain('bob');
      expect(a.text).not.toMatch(/balance|voucher|streak"/);
      expect(await txCount('bob')).toBe(before);
    });
  }

  it('asking for a user who does not exist is the same 403 (no existence oracle)', async () => {
    const a = await call(s.url, 'GET', '/api/points/balance?user_id=nobody', { token: alice });
    expect(a.status).toBe(403);
  });

  it('POST /api/users is refused to a user token, and writes nothing', async () => {
    const a = await call(s.url, 'POST', '/api/users', { token: alice, body: { id: 'mallory', email: 'm@example.org', name: 'M', territory: 'RE' } });
    expect(a.status).toBe(403);
    expect(await t.db.knex('users').where({ id: 'mallory' }).first()).toBeUndefined();
  });

  it('a service token must name the user', async () => {
    const a = await call(s.url, 'POST', '/api/points/collect-daily', { token: svc, body: {} });
    expect(a.status).toBe(400);
    expect(a.body.error.message).toContain('user_id');
  });
});

describe('mass assignment and malformed input: 400, nothing written', () => {
  it.each([
    ['/api/points/collect-daily', { points: 1000 }, 'points'],
    ['/api/points/collect-daily', { user_id: 'alice', balance: 99999 }, 'balance'],
    ['/api/points/earn', { action_type: 'review_posted', reference_id: 'x', points: 500 }, 'points'],
    ['/api/rewards/redeem', { reward_id: 1, points_spent: 0 }, 'points_spent'],
    ['/api/users', { id: 'eve', email: 'e@example.org', name: 'E', territory: 'RE', role: 'admin' }, 'role'],
  ])('POST %s with an extra field is refused naming it', async (url, body, field) => {
    const tok = url === '/api/users' ? svc : alice;
    const before = await txCount('alice');
    const a = await call(s.url, 'POST', url, { token: tok, body });
    expect(a.status).toBe(400);
    expect(a.body.error.code).toBe('VALIDATION_ERROR');
    expect(a.body.error.message).toContain(field);
    expect(await txCount('alice')).toBe(before);
    expect(await t.db.knex('users').where({ id: 'eve' }).first()).toBeUndefined();
  });

  it.each([
    ['POST', '/api/points/earn', { action_type: 'review_posted', reference_id: 42 }, 'reference_id'],
    ['POST', '/api/points/earn', { action_type: ['review_posted'], reference_id: 'x' }, 'action_type'],
    ['POST', '/api/points/collect-daily', { user_id: 123 }, 'user_id'],
    ['POST', '/api/rewards/redeem', { reward_id: true }, 'reward_id'],
    ['POST', '/api/rewards/redeem', { reward_id: '1 or 1=1' }, 'reward_id'],
    ['POST', '/api/rewards/redeem', { reward_id: -3 }, 'reward_id'],
    ['POST', '/api/rewards/redeem', {}, 'reward_id'],
    ['GET', '/api/points/history?limit=1000000', undefined, 'limit'],
    ['GET', '/api/points/history?limit=101', undefined, 'limit'],
    ['GET', '/api/points/history?page=-1', undefined, 'page'],
    ['GET', '/api/points/history?page=0', undefined, 'page'],
    ['GET', '/api/points/history?page=abc', undefined, 'page'],
    ['GET', '/api/points/history?page=1.5', undefined, 'page'],
    ['GET', '/api/points/history?type=bonus', undefined, 'type'],
    ['GET', '/api/points/history?sort=amount', undefined, 'sort'],
    ['GET', '/api/points/balance?user_id=alice&user_id=bob', undefined, 'user_id'],
    ['GET', '/api/rewards/catalog?territory_id=re', undefined, 'territory_id'],
  ])('%s %s → 400 naming the parameter', async (method, url, body, name) => {
    const a = await call(s.url, method, url, { token: alice, body });
    expect(a.status).toBe(400);
    expect(a.body).toEqual({ error: { code: 'VALIDATION_ERROR', message: expect.stringContaining(name) } });
  });

  it('malformed JSON, a non-JSON content type and prototype poisoning are 400', async () => {
    for (const [body, headers] of [
      ['{"user_id": "alice"', {}],
      ['user_id=alice', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['{"__proto__": {"admin": true}}', {}],
      ['{"constructor": {"prototype": {"admin": true}}}', {}],
    ] as Array<[string, Record<string, string>]>) {
      const a = await call(s.url, 'POST', '/api/points/collect-daily', { token: alice, body, headers });
      expect(a.status, body).toBe(400);
      expect(a.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect(await txCount('alice')).toBe(0);
  });

  it('a body over 16 KiB is 413 PAYLOAD_TOO_LARGE', async () => {
    const a = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'review_posted', reference_id: 'x'.repeat(17 * 1024) } });
    expect(a.status).toBe(413);
    expect(a.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } });
    expect(await txCount('alice')).toBe(0);
  });
});

describe('fraudulent earning through the endpoints', () => {
  it('a user token may not report an action the scale does not mark user_reportable', async () => {
    const a = await call(s.url, 'POST', '/api/points/earn', { token: alice, body: { action_type: 'transaction_completed', reference_id: 'fake-1' } });
    expect(a.status).toBe(403);
    expect(a.body.error.code).toBe('FORBIDDEN');
    expect(await txCount('alice')).toBe(0);
  });

  it('a replayed reference credits once', async () => {
    const body = { user_id: 'alice', action_type: 'review_posted', reference_id: 'review-9' };
    const first = await call(s.url, 'POST', '/api/points/earn', { token: svc, body });
    const again = await Promise.all([1, 2, 3].map(() => call(s.url, 'POST', '/api/points/earn', { token: svc, body })));
    expect(first.body.replay).toBe(false);
    for (const a of again) expect(a.body).toEqual({ ...first.body, replay: true });
    expect(await txCount('alice')).toBe(1);
  });

  it('a cap overrun is 409 CAP_REACHED (lifetime and daily)', async () => {
    const once = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'profile_completed', reference_id: 'p1' } });
    expect(once.status).toBe(200);
    const twice = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'profile_completed', reference_id: 'p2' } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('CAP_REACHED');
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push((await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'referral_signup', reference_id: `ref-${i}` } })).status);
    }
    expect(results).toEqual([200, 200, 200, 409]); // daily_cap 3
  });

  it('an unknown action is 400 VALIDATION_ERROR and credits nothing', async () => {
    const before = await txCount('alice');
    const a = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'free_money', reference_id: 'x' } });
    expect(a.status).toBe(400);
    expect(a.body.error.code).toBe('VALIDATION_ERROR');
    expect(await txCount('alice')).toBe(before);
  });
});

describe('suspension and territory', () => {
  it('a suspended user is refused at once with a token issued before, and can still read', async () => {
    await makeUser(t.db.knex, 'sus');
    const tok = await token('sus');
    expect((await call(s.url, 'POST', '/api/points/collect-daily', { token: tok })).status).toBe(200);
    await t.db.knex('suspensions').insert({ user_id: 'sus', reason: 'fraud', actor: 'ops', started_at: new Date(NOW) });
    for (const [url, body] of [
      ['/api/points/earn', { user_id: 'sus', action_type: 'review_posted', reference_id: 'r' }],
      ['/api/rewards/redeem', { user_id: 'sus', reward_id: 1 }],
    ] as const) {
      const a = await call(s.url, 'POST', url, { token: svc, body });
      expect(a.status, url).toBe(403);
      expect(a.body.error.code).toBe('ACCOUNT_SUSPENDED');
    }
    const tomorrow = await startServer(t.db, { now: '2026-11-26T08:00:00Z' });
    try {
      const c = await call(tomorrow.url, 'POST', '/api/points/collect-daily', { token: tok });
      expect(c.status).toBe(403);
      expect(c.body.error.code).toBe('ACCOUNT_SUSPENDED');
      expect((await call(tomorrow.url, 'GET', '/api/points/balance', { token: tok })).body.balance).toBe(10);
    } finally {
      await tomorrow.close();
    }
  });

  it('a user of a closed territory gets TERRITORY_NOT_LAUNCHED on collect', async () => {
    await makeUser(t.db.knex, 'martin', 'MQ');
    const a = await call(s.url, 'POST', '/api/points/collect-daily', { token: await token('martin') });
    expect(a.status).toBe(403);
    expect(a.body.error.code).toBe('TERRITORY_NOT_LAUNCHED');
  });
});

describe('database errors never leak', () => {
  it('a CHECK violation surfacing from the database maps to its business code, not a 500', async () => {
    await makeUser(t.db.knex, 'victim');
    // Make the database itself refuse the write with the balance constraint's name.
    await t.db.knex.raw(`
      create function test_refuse() returns trigger language plpgsql as $$
      begin
        if new.user_id in ('victim', 'victim2') then
          if new.user_id = 'victim' then
            raise exception 'new row violates check constraint' using errcode = '23514', constraint = 'points_balance_balance_check';
          end if;
          raise exception 'boom in insert into points_transactions (secret_column) values (1)';
        end if;
        return new;
      end $$`);
    await t.db.knex.raw('create trigger test_refuse before insert on points_transactions for each row execute function test_refuse()');
    try {
      const a = await call(s.url, 'POST', '/api/points/collect-daily', { token: await token('victim') });
      expect(a.status).toBe(422);
      expect(a.body.error.code).toBe('INSUFFICIENT_BALANCE');
      await makeUser(t.db.knex, 'victim2');
      const b = await call(s.url, 'POST', '/api/points/collect-daily', { token: await token('victim2') });
      expect(b.status).toBe(500);
      expect(b.body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
      expect(b.text).not.toMatch(/insert|secret_column|points_transactions|stack|at .*\.js/i);
    } finally {
      await t.db.knex.raw('drop trigger test_refuse on points_transactions');
    }
  });
});
