import { describe, expect, it } from 'vitest';
import { RevocationList } from '../../src/http/revocations.js';
import { RayonError } from '../../src/core/errors.js';

// The in-memory list of revoked token ids a server checks on every request: what it does when
// its database read fails (serve the last list for a while, then refuse tokens it cannot vouch for).
const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as RayonError).code;
  }
};

describe('RevocationList', () => {
  it('refuses a listed jti, lets others and tokens without a jti through', async () => {
    const list = new RevocationList(async () => ['j-1'], { refreshMs: 1000 });
    await list.load();
    expect(codeOf(() => list.check('j-1'))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => list.check('j-2'))).toBeUndefined();
    expect(codeOf(() => list.check(undefined))).toBeUndefined();
  });

  it('fails open on a failed read for at most maxStaleMs, then refuses tokens with a jti (503) until a read succeeds', async () => {
    let nowMs = 0;
    let down = false;
    const list = new RevocationList(
      async () => {
        if (down) throw new Error('connection refused');
        return ['j-1'];
      },
      { refreshMs: 100, maxStaleMs: 1000, clock: () => nowMs },
    );
    await list.load();
    down = true;
    nowMs = 500;
    await expect(list.load()).rejects.toThrow('connection refused');
    expect(codeOf(() => list.check('j-2'))).toBeUndefined(); // last good list, 500 ms old
    expect(codeOf(() => list.check('j-1'))).toBe('UNAUTHENTICATED');
    nowMs = 1001;
    expect(codeOf(() => list.check('j-2'))).toBe('UNAVAILABLE');
    expect(codeOf(() => list.check('j-1'))).toBe('UNAVAILABLE');
    expect(codeOf(() => list.check(undefined))).toBeUndefined(); // cannot be revoked: not held up
    down = false;
    await list.load();
    expect(codeOf(() => list.check('j-2'))).toBeUndefined();
  });

  it('re-reads the list on its timer, reports failures and keeps going, and stops', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const list = new RevocationList(
      async () => {
        calls++;
        if (calls === 2) throw new Error('blip');
        return calls >= 3 ? ['late'] : [];
      },
      { refreshMs: 20 },
    );
    await list.load();
    list.start((e) => errors.push(e));
    const deadline = Date.now() + 5000;
    while (calls < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await list.stop();
    const after = calls;
    expect(after).toBeGreaterThanOrEqual(4);
    expect(errors).toHaveLength(1);
    expect(codeOf(() => list.check('late'))).toBe('UNAUTHENTICATED');
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toBe(after);
  });
});
