import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUser, makeUsers } from '../helpers/fixtures.js';
import { call, makeRewards, startServer, token, type Running } from './helpers.js';
import { spawnServe } from './processes.js';
import { openDb, type Db } from '../../src/db/connect.js';
import { dailyBatchStats } from '../../src/core/earning/index.js';

const NOW = '2026-11-25T08:00:00Z';
let t: TestDb;
let s: Running;
let serverDb: Db;

// Real parallelism needs real sockets: a keep-alive agent with many connections.
const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
function post(base: string, path: string, tok: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(base + path, { method: 'POST', agent, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}
const count = (xs: number[], v: number) => xs.filter((x) => x === v).length;

/**
 * One 200; every other answer is ALREADY_COLLECTED — or, on a machine so loaded that the tail
 * of 200 transactions serialised on one user's row waits past the lock/pool timeouts, a 503
 * UNAVAILABLE (SPEC: saturated), which writes nothing. Never a 500, never a second credit.
 */
function expectOneCredit(statuses: number[]): void {
  expect(count(statuses, 200)).toBe(1);
  expect(count(statuses, 409) + count(statuses, 503), JSON.stringify(statuses)).toBe(199);
  expect(count(statuses, 409)).toBeGreaterThan(100);
}

describeMultiConnection('concurrency over HTTP', () => {
  beforeAll(async () => {
    t = await createTestDb();
    serverDb = await t.open(20);
    s = await startServer(serverDb, { now: NOW });
  });
  afterAll(async () => {
    agent.destroy();
    await s?.close();
    await t?.destroy();
  });

  it('200 parallel collect-daily for one user credit exactly once', async () => {
    await makeUser(t.db.knex, 'solo');
    const tok = await token('solo');
    const statuses = await Promise.all(Array.from({ length: 200 }, () => post(s.url, '/api/points/collect-daily', tok, {})));
    expectOneCredit(statuses);
    const rows = await t.db.knex('points_transactions').where({ user_id: 'solo', type: 'daily' });
    expect(rows).toHaveLength(1);
    expect((await t.db.knex('points_balance').where({ user_id: 'solo' }).first()).balance).toBe(10);
  });

  it('300 users collecting at once, each twice (batched collections): one credit and one 409 per user', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `many${i}`);
    await makeUsers(t.db.knex, ids.map((id) => ({ id })));
    const toks = await Promise.all(ids.map((id) => token(id)));
    const before = { ...dailyBatchStats(serverDb.knex)! };
    const statuses = await Promise.all([...toks, ...toks].map((tok) => post(s.url, '/api/points/collect-daily', tok, {})));
    const after = dailyBatchStats(serverDb.knex)!;
    expect(after.batchWritten - before.batchWritten).toBeGreaterThan(200); // through batch statements
    expect(after.failedBatches).toBe(before.failedBatches);
    for (let i = 0; i < ids.length; i++) expect([statuses[i], statuses[i + ids.length]].sort(), ids[i]).toEqual([200, 409]);
    const rows = await t.db.knex('points_transactions').whereIn('user_id', ids).where({ type: 'daily' }).select('user_id');
    expect(new Set(rows.map((r) => r.user_id)).size).toBe(300);
    expect(rows).toHaveLength(300);
  });

  it('the same against two server processes on one database: one credit', { timeout: 240_000 }, async () => {
    await makeUser(t.db.knex, 'duo');
    const a = await spawnServe(t.url as string, { RAYON_NOW: NOW });
    const b = await spawnServe(t.url as string, { RAYON_NOW: NOW });
    try {
      const tok = await token('duo');
      const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => post(i % 2 ? a.url : b.url, '/api/points/collect-daily', tok, {})));
      expectOneCredit(statuses);
      expect(await t.db.knex('points_transactions').where({ user_id: 'duo', type: 'daily' })).toHaveLength(1);
    } finally {
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
    }
  });

  it('50 users on a stock-1 reward: one winner, one unit taken, one debit', async () => {
    const users = Array.from({ length: 50 }, (_, i) => ({ id: `buyer${i}` }));
    await makeUsers(t.db.knex, users);
    const svc = await token('platform', 'service');
    for (const u of users) expect(await post(s.url, '/api/points/collect-daily', svc, { user_id: u.id })).toBe(200);
    const [rid] = await makeRewards(t.db.knex, [{ sku: 'LAST', cost: 10, stock: 1 }]);
    const statuses = await Promise.all(users.map((u) => post(s.url, '/api/rewards/redeem', svc, { user_id: u.id, reward_id: rid })));
    expect(count(statuses, 200)).toBe(1);
    expect(count(statuses, 422)).toBe(49);
    expect((await t.db.knex('rewards').where({ id: rid }).first()).units_taken).toBe(1);
    expect(await t.db.knex('points_transactions').where({ type: 'redeem' }).whereIn('user_id', users.map((u) => u.id))).toHaveLength(1);
  });

  it('SIGTERM lets in-flight requests finish, flushes request statistics and exits 0', { timeout: 240_000 }, async () => {
    const users = Array.from({ length: 40 }, (_, i) => ({ id: `term${i}` }));
    await makeUsers(t.db.knex, users);
    const p = await spawnServe(t.url as string, { RAYON_NOW: NOW, RAYON_STATS_FLUSH_MS: '3600000' });
    const svc = await token('platform', 'service');
    const inFlight = users.map((u) => post(p.url, '/api/points/collect-daily', svc, { user_id: u.id }).catch(() => -1));
    await new Promise((r) => setTimeout(r, 5));
    const exit = p.stop();
    const statuses = await Promise.all(inFlight);
    expect(await exit).toBe(0);
    // Every request either completed (200) or was never accepted (connection refused/reset): no half answer.
    const done = count(statuses, 200);
    expect(done + count(statuses, -1) + count(statuses, 503)).toBe(40);
    const credited = await t.db.knex('points_transactions').whereIn('user_id', users.map((u) => u.id)).count({ n: '*' });
    expect(Number(credited[0].n)).toBe(done);
    const stats = await t.db.knex('http_request_stats').where({ route: 'collect-daily' }).sum({ n: 'requests' });
    expect(Number(stats[0].n)).toBeGreaterThanOrEqual(done); // flushed on shutdown, not only on the timer
    expect(p.stderr()).toContain('SIGTERM');
  });

  it('database down: 503 UNAVAILABLE with Retry-After, quickly, then recovers by itself', async () => {
    // A TCP relay in front of PostgreSQL that the test can cut.
    const target = new URL(t.url as string);
    let sockets: net.Socket[] = [];
    let up = true;
    const relay = net.createServer((c) => {
      if (!up) return c.destroy();
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      sockets.push(c, upstream);
      c.pipe(upstream).pipe(c);
      c.on('error', () => upstream.destroy());
      upstream.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const relayUrl = new URL(t.url as string);
    relayUrl.port = String((relay.address() as net.AddressInfo).port);
    relayUrl.hostname = '127.0.0.1';
    const db = await openDb({ databaseUrl: relayUrl.toString(), dataDir: '', poolMax: 4 });
    const r = await startServer(db, { now: NOW });
    try {
      await makeUser(t.db.knex, 'flaky');
      const tok = await token('flaky');
      expect((await call(r.url, 'GET', '/api/points/balance', { token: tok })).status).toBe(200);
      up = false;
      for (const so of sockets) so.destroy();
      sockets = [];
      const started = Date.now();
      const down = await call(r.url, 'GET', '/api/points/balance', { token: tok });
      const health = await call(r.url, 'GET', '/healthz');
      expect(Date.now() - started).toBeLessThan(6_000);
      for (const a of [down, health]) {
        expect(a.status).toBe(503);
        expect(a.body).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String) } });
        expect(a.headers.get('retry-after')).toMatch(/^\d+$/);
      }
      up = true;
      let back = 0;
      for (let i = 0; i < 20 && back !== 200; i++) {
        back = (await call(r.url, 'GET', '/api/points/balance', { token: tok })).status;
        if (back !== 200) await new Promise((res) => setTimeout(res, 250));
      }
      expect(back).toBe(200);
    } finally {
      await r.close();
      await db.close();
      relay.close();
    }
  });
});
