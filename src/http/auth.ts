import { SignJWT, createLocalJWKSet, errors as joseErrors, importSPKI, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { RayonError } from '../core/errors.js';
import { checkTtl, newJti, TOKEN_ROLES } from '../core/tokens/index.js';
import { USER_ID_RE } from '../core/users/index.js';
import type { AuthConfig } from '../config/serve.js';
import type { RevocationCheck } from './revocations.js';

export type Role = 'user' | 'service' | 'admin';
export const ROLES: readonly Role[] = TOKEN_ROLES;

export interface Principal {
  sub: string;
  role: Role;
}

type KeyLike = Uint8Array | CryptoKey;

export interface Verifier {
  verify(token: string): Promise<Principal>;
}

/**
 * Whether HS256 tokens (the shared secret) are accepted: always when the secret is the only key;
 * next to an asymmetric key or a JWKS only with RAYON_JWT_ALLOW_HS256=1, so a deployment that
 * moved to the accounts system's keys is not left open to anyone holding the old secret.
 */
export function hs256Accepted(cfg: AuthConfig): boolean {
  if (cfg.secret === undefined) return false;
  return !(cfg.publicKeyPem || cfg.jwks) || cfg.allowHs256 === true;
}

/**
 * Build the token verifier. The algorithm is pinned per key: HS256 only with the shared
 * secret (and only when hs256Accepted), RS256/ES256 only with the configured public key or
 * JWKS, so a token cannot choose how it is checked (no `none`, no HS256 signed with a public
 * key). With `revocations`, every request's token id is checked against the revoked ones,
 * remembered tokens included.
 */
export async function makeVerifier(cfg: AuthConfig, revocations?: RevocationCheck): Promise<Verifier> {
  const hs256 = hs256Accepted(cfg);
  const algorithms = hs256 ? ['HS256'] : [];
  let publicKey: CryptoKey | undefined;
  if (cfg.publicKeyPem && cfg.publicKeyAlg) {
    publicKey = (await importSPKI(cfg.publicKeyPem, cfg.publicKeyAlg)) as CryptoKey;
    algorithms.push(cfg.publicKeyAlg);
  }
  const jwks = cfg.jwks ? createLocalJWKSet(cfg.jwks as Parameters<typeof createLocalJWKSet>[0]) : undefined;
  if (jwks) for (const a of ['RS256', 'ES256']) if (!algorithms.includes(a)) algorithms.push(a);
  if (jwks && !cfg.audience) {
    throw new RayonError('VALIDATION_ERROR', 'RAYON_JWT_AUDIENCE is required when RAYON_JWT_JWKS_FILE is set', { details: [{ where: 'RAYON_JWT_AUDIENCE', message: 'required with a JWKS' }] });
  }
  if (algorithms.length === 0) {
    throw new RayonError('VALIDATION_ERROR', 'no key to verify tokens: set RAYON_JWT_SECRET, RAYON_JWT_PUBLIC_KEY_FILE or RAYON_JWT_JWKS_FILE');
  }

  // Imported once: handing jose the raw bytes would re-import the key on every request.
  const hmacKey = hs256
    ? await crypto.subtle.importKey('raw', new Uint8Array(cfg.secret as Uint8Array) as unknown as ArrayBuffer, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : undefined;
  const getKey = async (header: JWTHeaderParameters, token: { payload: string; signature: string }): Promise<KeyLike> => {
    if (header.alg === 'HS256' && hmacKey) return hmacKey;
    if (publicKey && header.alg === cfg.publicKeyAlg && (!jwks || !header.kid)) return publicKey;
    if (jwks) return (await jwks(header, token as never)) as KeyLike;
    throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  };

  // Tokens already verified, for a minute at most and never past their `exp`: an app sends the
  // same token with every request, and verifying its signature (WebCrypto, an async job per call)
  // costs more server CPU than the rest of a catalog page request. Bounded; cleared when full.
  // The revocation check runs on every call, remembered or not.
  const verified = new Map<string, { principal: Principal; jti: string | undefined; untilMs: number }>();

  return {
    async verify(token: string): Promise<Principal> {
      const nowMs = Date.now();
      const hit = verified.get(token);
      if (hit !== undefined) {
        if (hit.untilMs > nowMs) {
          revocations?.check(hit.jti);
          return hit.principal;
        }
        verified.delete(token);
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey as never, {
          algorithms,
          issuer: cfg.issuer,
          audience: cfg.audience,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        throw new RayonError('UNAUTHENTICATED', describeJoseError(err));
      }
      const principal = principalOf(payload);
      const jti = payload.jti;
      if (jti !== undefined && (typeof jti !== 'string' || jti.length === 0)) throw new RayonError('UNAUTHENTICATED', 'the token has no valid "jti" claim');
      revocations?.check(jti);
      if (verified.size >= VERIFIED_MAX) verified.clear();
      verified.set(token, { principal, jti, untilMs: Math.min((payload.exp as number) * 1000, nowMs + VERIFIED_MS) });
      return principal;
    },
  };
}

const VERIFIED_MS = 60_000;
const VERIFIED_MAX = 50_000;

function principalOf(payload: JWTPayload): Principal {
  const role = payload.role;
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
    throw new RayonError('UNAUTHENTICATED', 'the token has no valid "role" claim (user, service or admin)');
  }
  const sub = payload.sub as string;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new RayonError('UNAUTHENTICATED', 'the token has no valid "sub" claim');
  if (role === 'user' && !USER_ID_RE.test(sub)) throw new RayonError('UNAUTHENTICATED', 'the "sub" of a user token must be a user id');
  return { sub, role: role as Role };
}

/** A short reason a client can act on, without echoing the token back. */
function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the token's "${err.claim}" claim is missing or not accepted`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this server does not accept';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches the token';
  return 'the token is malformed or not valid';
}

/** Read `Authorization: Bearer <token>`, or refuse. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new RayonError('UNAUTHENTICATED', 'missing Authorization header (expected "Bearer <token>")');
  const m = /^Bearer ([A-Za-z0-9_\-.=]+)$/i.exec(header.trim());
  if (!m) throw new RayonError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
  return m[1];
}

/**
 * Mint an HS256 token with a random `jti` (for `rayon token issue` and tests), within the
 * lifetime cap of its role. Expiry uses the real clock.
 */
export async function issueToken(
  cfg: Pick<AuthConfig, 'secret' | 'issuer' | 'audience'>,
  p: { sub: string; role: Role; ttlSeconds: number },
  nowMs = Date.now(),
): Promise<{ token: string; jti: string; expires_at: string }> {
  if (cfg.secret === undefined) throw new RayonError('VALIDATION_ERROR', 'RAYON_JWT_SECRET is required to sign tokens');
  checkTtl(p.ttlSeconds, p.role);
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + p.ttlSeconds;
  const jti = newJti();
  let jwt = new SignJWT({ role: p.role }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(p.sub).setJti(jti).setIssuedAt(iat).setExpirationTime(exp);
  if (cfg.issuer) jwt = jwt.setIssuer(cfg.issuer);
  if (cfg.audience) jwt = jwt.setAudience(cfg.audience);
  return { token: await jwt.sign(cfg.secret), jti, expires_at: new Date(exp * 1000).toISOString() };
}
