import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { makeVerifier } from '../../src/http/auth.js';
import { AUTH, SECRET } from './helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/rayon.js');
const rayon = (args: string[], env: Record<string, string | undefined> = {}) =>
  execa('node', [BIN, ...args], { env: { RAYON_JWT_SECRET: SECRET, ...env }, reject: false, extendEnv: false });

describe('rayon token issue (built CLI)', () => {
  it('prints a token the server accepts, with the role, subject and lifetime asked for', { timeout: 240_000 }, async () => {
    const r = await rayon(['token', 'issue', 'checkout', '--role', 'service', '--ttl', '15m']);
    expect(r.exitCode).toBe(0);
    const tok = r.stdout.trim();
    expect(await (await makeVerifier(AUTH)).verify(tok)).toEqual({ sub: 'checkout', role: 'service' });
    const claims = decodeJwt(tok);
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(r.stderr).toContain('service token for checkout');
  });

  it('--json gives the token and its expiry; issuer and audience are applied when configured', { timeout: 240_000 }, async () => {
    const r = await rayon(['--json', 'token', 'issue', 'alice'], { RAYON_JWT_ISSUER: 'accounts', RAYON_JWT_AUDIENCE: 'rayon' });
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ sub: 'alice', role: 'user', expires_at: expect.stringMatching(/Z$/) });
    expect(decodeJwt(out.token)).toMatchObject({ iss: 'accounts', aud: 'rayon', role: 'user' });
  });

  it('refuses a short or missing secret, a bad ttl, a bad role and a non-user-id subject (exit 2)', { timeout: 240_000 }, async () => {
    const short = await rayon(['token', 'issue', 'alice'], { RAYON_JWT_SECRET: 'short' });
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toContain('RAYON_JWT_SECRET');
    expect(short.stdout).toBe('');
    const ttl = await rayon(['token', 'issue', 'alice', '--ttl', 'forever']);
    expect(ttl.exitCode).toBe(2);
    expect(ttl.stderr).toContain('--ttl');
    expect((await rayon(['token', 'issue', 'alice', '--role', 'root'])).exitCode).toBe(2);
    const sub = await rayon(['token', 'issue', 'not a user id']);
    expect(sub.exitCode).toBe(2);
    expect(sub.stderr).toContain('user id');
  });

  it('rayon serve refuses to start without a secret of at least 32 bytes', { timeout: 240_000 }, async () => {
    const r = await rayon(['serve', '--port', '0'], { RAYON_JWT_SECRET: undefined, RAYON_DATA_DIR: '/nonexistent-rayon-dir' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('RAYON_JWT_SECRET is required');
  });
});
