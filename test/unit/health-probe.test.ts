import { describe, expect, it } from 'vitest';
import { HealthProbe } from '../../src/http/health.js';

describe('the /healthz probe', () => {
  it('concurrent checks share one probe; its answer is reused for the interval, then probed again', async () => {
    let now = 1_000_000;
    let calls = 0;
    const probe = new HealthProbe(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
      },
      { intervalMs: 1000, timeoutMs: 500, clock: () => now },
    );
    await Promise.all(Array.from({ length: 50 }, () => probe.check()));
    expect(calls).toBe(1);
    now += 999;
    await probe.check();
    expect(calls).toBe(1);
    now += 1;
    await probe.check();
    expect(calls).toBe(2);
    expect(probe.probes).toBe(2);
  });

  it('a failing probe answers UNAVAILABLE from the cache until the interval has passed', async () => {
    let now = 0;
    let up = false;
    let calls = 0;
    const probe = new HealthProbe(
      async () => {
        calls++;
        if (!up) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
      { intervalMs: 1000, timeoutMs: 500, clock: () => now },
    );
    await expect(probe.check()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.not.stringContaining('ECONNREFUSED') });
    up = true;
    await expect(probe.check()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(1);
    now += 1000;
    await expect(probe.check()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('a probe that does not answer fails at its timeout, and no second probe starts while it hangs', async () => {
    let now = 0;
    let calls = 0;
    let answer!: () => void;
    const probe = new HealthProbe(
      () => {
        calls++;
        return calls === 1 ? new Promise<void>((r) => (answer = r)) : Promise.resolve();
      },
      { intervalMs: 1000, timeoutMs: 50, clock: () => now },
    );
    const started = Date.now();
    await expect(probe.check()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1000);
    now += 5000;
    await expect(probe.check()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(1);
    answer();
    await new Promise((r) => setTimeout(r, 0));
    await expect(probe.check()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
