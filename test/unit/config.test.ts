import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { redactUrl } from '../../src/db/connect.js';
import { failure } from '../helpers/failure.js';

describe('resolveConfig', () => {
  it('flags beat the environment, which beats the defaults', () => {
    const env = { DATABASE_URL: 'postgres://env/db', RAYON_ACTOR: 'env-actor', RAYON_NOW: '2026-01-01T00:00:00Z', RAYON_DATA_DIR: '/tmp/rayon-x' };
    const c = resolveConfig({ databaseUrl: 'postgresql://flag/db', actor: 'flag-actor', now: '2026-11-25T08:00:00+04:00' }, env, false);
    expect(c.databaseUrl).toBe('postgresql://flag/db');
    expect(c.actor).toBe('flag-actor');
    expect(c.fixedNow?.toISOString()).toBe('2026-11-25T04:00:00.000Z');
    expect(c.dataDir).toBe('/tmp/rayon-x');
    expect(c.interactive).toBe(false);
    const e = resolveConfig({}, env, true);
    expect([e.databaseUrl, e.actor, e.fixedNow?.toISOString(), e.interactive]).toEqual(['postgres://env/db', 'env-actor', '2026-01-01T00:00:00.000Z', true]);
  });

  it('defaults: embedded data folder ./.rayon/data, no fixed clock, colours unless NO_COLOR', () => {
    const c = resolveConfig({}, {}, false);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe(path.resolve('.rayon/data'));
    expect(c.fixedNow).toBeUndefined();
    expect(c.color).toBe(true);
    expect(resolveConfig({}, { NO_COLOR: '1' }, false).color).toBe(false);
    expect(resolveConfig({ color: false }, {}, false).color).toBe(false);
    expect(resolveConfig({}, { DATABASE_URL: '' }, false).databaseUrl).toBeUndefined();
  });

  it('refuses a bad --now, naming the flag', () => {
    const e = failure(() => resolveConfig({ now: '2026-11-25 08:00' }, {}, false));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details).toEqual([{ where: '--now', message: expect.stringContaining('not an ISO instant with a zone') }]);
  });

  it('refuses a bad RAYON_NOW, naming the variable', () => {
    expect(failure(() => resolveConfig({}, { RAYON_NOW: 'tomorrow' }, false)).details![0].where).toBe('RAYON_NOW');
  });

  it('refuses a DATABASE_URL that is not postgres://, and reports every problem together', () => {
    const e = failure(() => resolveConfig({ now: 'nope' }, { DATABASE_URL: 'mysql://root@localhost/db' }, false));
    expect(e.details!.map((d) => d.where)).toEqual(['--now', 'DATABASE_URL']);
    expect(e.message).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(failure(() => resolveConfig({ databaseUrl: 'http://x' }, {}, false)).details![0].where).toBe('--database-url');
  });

  it('refuses an actor over 100 characters', () => {
    expect(failure(() => resolveConfig({ actor: 'a'.repeat(101) }, {}, false)).details![0].where).toBe('--actor');
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    const r = redactUrl('postgres://bob:secret@127.0.0.1:1/x');
    expect(r).not.toContain('secret');
    expect(r).toBe('postgres://bob:***@127.0.0.1:1/x');
  });
  it('leaves a URL without password as it is', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/test')).toBe('postgres://postgres@127.0.0.1:5432/test');
  });
  it('redacts even a URL the URL parser refuses', () => {
    const r = redactUrl('postgres://bob:s3cr%t@host:notaport/db');
    expect(r).not.toContain('s3cr');
    expect(r).toContain('bob:***@');
  });
});
