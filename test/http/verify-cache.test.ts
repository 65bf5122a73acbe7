import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { issueToken, makeVerifier } from '../../src/http/auth.js';
import { RayonError } from '../../src/core/errors.js';
import { AUTH } from './helpers.js';

// The verifier remembers tokens it has verified (an app reuses its token on every request):
// a remembered token must still stop working at its `exp`, and nothing else may ride on it.
describe('verified-token memory', () => {
  it('a remembered token is refused once its exp has passed', async () => {
    const v = await makeVerifier(AUTH);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ana').setExpirationTime(exp).sign(AUTH.secret);
    expect(await v.verify(token)).toEqual({ sub: 'ana', role: 'user' });
    expect(await v.verify(token)).toEqual({ sub: 'ana', role: 'user' }); // from memory
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const err = await v.verify(token).catch((e: RayonError) => e);
    expect(err).toBeInstanceOf(RayonError);
    expect((err as RayonError).code).toBe('UNAUTHENTICATED');
  });

  it('a tampered copy of a remembered token is still checked and refused', async () => {
    const v = await makeVerifier(AUTH);
    const { token } = await issueToken(AUTH, { sub: 'ana', role: 'user', ttlSeconds: 600 });
    await v.verify(token);
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ role: 'admin', sub: 'ana', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.${sig}`;
    await expect(v.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const trailing = `${token}x`;
    await expect(v.verify(trailing)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
