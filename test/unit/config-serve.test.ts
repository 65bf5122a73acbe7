import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve.js';
import { RayonError } from '../../src/core/errors.js';

const SECRET = 'x'.repeat(32);
const SRC = path.join(import.meta.dirname, '..', '..', 'src');

function failure(f: () => unknown): RayonError {
  try {
    f();
  } catch (e) {
    if (e instanceof RayonError) return e;
    throw e;
  }
  throw new Error('expected a RayonError');
}

/** Every .ts file below `dir`, as paths relative to src/. */
function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(SRC, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}
const read = (f: string) => fs.readFileSync(path.join(SRC, f), 'utf8');

describe('the HTTP mode configuration (src/config/serve.ts)', () => {
  it('defaults < environment < flags', () => {
    const d = resolveServeConfig({}, { RAYON_JWT_SECRET: SECRET });
    expect([d.host, d.port, d.poolMax, d.redisPrefix, d.logLevel, d.catalogTotalTtlMs]).toEqual(['127.0.0.1', 8080, 8, 'rayon:rl:', 'warn', 5000]);
    const env = { RAYON_JWT_SECRET: SECRET, RAYON_HOST: '0.0.0.0', RAYON_PORT: '9000', RAYON_POOL_MAX: '20' };
    const e = resolveServeConfig({}, env);
    expect([e.host, e.port, e.poolMax]).toEqual(['0.0.0.0', 9000, 20]);
    const f = resolveServeConfig({ host: '::1', port: '0' }, env);
    expect([f.host, f.port]).toEqual(['::1', 0]);
  });

  it('reports every problem together, each naming its variable or flag', () => {
    const e = failure(() => resolveServeConfig({ port: '70000' }, { RAYON_JWT_SECRET: 'short', RAYON_LOG_LEVEL: 'loud', RAYON_REDIS_URL: 'http://x', RAYON_POOL_MAX: '0' }));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details?.map((d) => d.where)).toEqual(['RAYON_JWT_SECRET', '--port', 'RAYON_REDIS_URL', 'RAYON_LOG_LEVEL', 'RAYON_POOL_MAX']);
  });
});

describe('configuration in one layer, thin faces', () => {
  it('no file in src/ outside the configuration layer reads process.env', () => {
    const readers = sources('.').filter((f) => f !== 'config.ts' && !f.startsWith('config/') && /process\.env\b/.test(read(f)));
    expect(readers).toEqual([]);
  });

  it('the HTTP mode and every command hold no SQL and no knex calls: they call core', () => {
    const faces = [...sources('http'), ...sources('commands')];
    const knexUse = /from 'knex'|\.raw\(|\.transaction\(|\bknex\(|\bdb\('/;
    expect(faces.filter((f) => knexUse.test(read(f).replace(/^import type .*$/gm, '')))).toEqual([]);
  });
});
