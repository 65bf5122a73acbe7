import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { call, startServer, type Running } from './helpers.js';
import { resolveServeConfig } from '../../src/config/serve.js';
import type { Db } from '../../src/db/connect.js';
import { SECRET } from './helpers.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const portOf = (r: Running) => Number(new URL(r.url).port);
const openConnections = (r: Running) => new Promise<number>((res, rej) => r.server.app.server.getConnections((e, n) => (e ? rej(e) : res(n))));

/** A raw socket: resolves once connected; `closed` resolves with what the server sent before closing it. */
function rawSocket(port: number): Promise<{ socket: net.Socket; closed: Promise<{ afterMs: number; data: string }> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const started = Date.now();
    socket.on('data', (d) => (data += d.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<{ afterMs: number; data: string }>((r) => socket.on('close', () => r({ afterMs: Date.now() - started, data })));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** GET on a new connection of its own: the status, or the error when the connection was refused. */
function getOnNewConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('open connections and slow clients', () => {
  it('past RAYON_MAX_CONNECTIONS a new connection is closed at once; a slot freed serves again', async () => {
    const s = await startServer(t.db, { limits: { maxConnections: 3 } });
    try {
      const held = await Promise.all([0, 1, 2].map(() => rawSocket(portOf(s))));
      for (let i = 0; i < 100 && (await openConnections(s)) < 3; i++) await sleep(10);
      expect(await openConnections(s)).toBe(3);
      const refused = await getOnNewConnection(`${s.url}/openapi.json`);
      expect(refused).toMatch(/ECONNRESET|socket hang up|EPIPE/);
      held[0].socket.destroy();
      for (let i = 0; i < 100 && (await openConnections(s)) > 2; i++) await sleep(10);
      expect(await getOnNewConnection(`${s.url}/openapi.json`)).toBe(200);
      for (const h of held) h.socket.destroy();
      for (let i = 0; i < 100 && (await openConnections(s)) > 0; i++) await sleep(10);
      const m = await call(s.url, 'GET', '/metrics');
      expect(metric(m.text, 'rayon_http_connections_refused_total')).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('a client trickling its headers is cut off at the headers timeout, and an idle keep-alive connection is closed', async () => {
    const s = await startServer(t.db, { limits: { headersTimeoutMs: 400, keepAliveTimeoutMs: 300 } });
    try {
      const slow = await rawSocket(portOf(s));
      slow.socket.write('GET /openapi.json HTTP/1.1\r\nHost: rayon\r\n');
      const drip = setInterval(() => slow.socket.writable && slow.socket.write('X-Slow: 1\r\n'), 100);
      const cut = await Promise.race([slow.closed, sleep(5000).then(() => null)]);
      clearInterval(drip);
      expect(cut).not.toBeNull();
      expect(cut!.data).toMatch(/^HTTP\/1\.1 408 /);
      expect(cut!.afterMs).toBeLessThan(2000);

      const idle = await rawSocket(portOf(s));
      idle.socket.write('GET /openapi.json HTTP/1.1\r\nHost: rayon\r\n\r\n');
      const closed = await Promise.race([idle.closed, sleep(5000).then(() => null)]);
      expect(closed).not.toBeNull();
      expect(closed!.data).toMatch(/^HTTP\/1\.1 200 /);
      expect(closed!.afterMs).toBeLessThan(2500); // Node closes an idle socket up to 1 s after the timeout
    } finally {
      await s.close();
    }
  });
});

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

describe('server limit settings', () => {
  const env = { RAYON_JWT_SECRET: SECRET };
  it('default to a 10 s deadline, 64 connections per pooled connection and 10 s keep-alive; each can be set', () => {
    expect(resolveServeConfig({}, env).limits).toEqual({ requestTimeoutMs: 10_000, maxConnections: 512, keepAliveTimeoutMs: 10_000 });
    expect(resolveServeConfig({}, { ...env, RAYON_POOL_MAX: '20' }).limits.maxConnections).toBe(1280);
    const set = { ...env, RAYON_REQUEST_TIMEOUT_MS: '2500', RAYON_MAX_CONNECTIONS: '100', RAYON_KEEP_ALIVE_TIMEOUT_MS: '65000' };
    expect(resolveServeConfig({}, set).limits).toEqual({ requestTimeoutMs: 2500, maxConnections: 100, keepAliveTimeoutMs: 65_000 });
  });
  it('refuse what they cannot use, naming each variable', () => {
    const bad = { ...env, RAYON_REQUEST_TIMEOUT_MS: '10ms', RAYON_MAX_CONNECTIONS: '0', RAYON_KEEP_ALIVE_TIMEOUT_MS: '-1' };
    expect(() => resolveServeConfig({}, bad)).toThrow(/RAYON_REQUEST_TIMEOUT_MS .*RAYON_MAX_CONNECTIONS .*RAYON_KEEP_ALIVE_TIMEOUT_MS /);
  });
});
