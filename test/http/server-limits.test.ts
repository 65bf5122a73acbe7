import http from 'node:http';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { call, startServer, type Running } from './helpers.js';
import type { Db } from '../../src/db/connect.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describeMultiConnection('/healthz and /metrics stay cheap', () => {
  let serverDb: Db;
  let s: Running;
  beforeAll(async () => {
    serverDb = await t.open(2);
    s = await startServer(serverDb);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('200 concurrent /healthz share one database probe', async () => {
    await sleep(1100); // past any probe made before
    let probes = 0;
    const count = (q: { sql: string }) => {
      if (q.sql === 'select 1') probes++;
    };
    serverDb.knex.on('query', count);
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
      const get = () =>
        new Promise<number>((resolve, reject) => {
          http.get(`${s.url}/healthz`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          }).on('error', reject);
        });
      const statuses = await Promise.all(Array.from({ length: 200 }, get));
      agent.destroy();
      expect(statuses.every((x) => x === 200)).toBe(true);
      expect(probes).toBeGreaterThanOrEqual(1);
      expect(probes).toBeLessThanOrEqual(2);
    } finally {
      serverDb.knex.off('query', count);
    }
    const m = await call(s.url, 'GET', '/metrics');
    expect(metric(m.text, 'rayon_health_probes')).toBeLessThanOrEqual(3);
  });

  it('with every pooled connection taken, /metrics answers at once (rendered once for 100 scrapes) and /healthz says 503 quickly', async () => {
    const client = serverDb.knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown> };
    const held = await Promise.all([client.acquireConnection(), client.acquireConnection()]);
    const renders = vi.spyOn(Registry.prototype, 'metrics');
    try {
      await sleep(1100); // past the last rendering and the last probe
      const started = Date.now();
      const scrapes = await Promise.all(Array.from({ length: 100 }, () => call(s.url, 'GET', '/metrics')));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(scrapes.every((a) => a.status === 200 && a.text.includes('rayon_db_pool_used 2'))).toBe(true);
      expect(renders.mock.calls.length).toBeLessThanOrEqual(2);
      const h0 = Date.now();
      const health = await call(s.url, 'GET', '/healthz');
      expect(health.status).toBe(503);
      expect(health.body.error.code).toBe('UNAVAILABLE');
      expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(Date.now() - h0).toBeLessThan(3000);
    } finally {
      renders.mockRestore();
      for (const c of held) await client.releaseConnection(c);
    }
    await sleep(1100);
    expect((await call(s.url, 'GET', '/healthz')).status).toBe(200);
  });
});
