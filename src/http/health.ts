import { RayonError } from '../core/errors.js';
import { runInScope } from '../db/scope.js';

/**
 * `/healthz` from a cached database probe: at most one probe starts per `intervalMs`, concurrent
 * checks share the probe in flight, and a probe that does not answer within `timeoutMs` counts
 * as a failure (and no other starts while it is still pending). However many health checks
 * arrive, the database sees at most one `select 1` a second, and the pool lends at most one
 * connection to them.
 */
export class HealthProbe {
  /** Probes started since the server started (for /metrics and tests). */
  probes = 0;
  private last?: { startedAt: number; error?: RayonError };
  private waiting?: Promise<void>;
  private pending = false;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly opts: { intervalMs: number; timeoutMs: number; clock?: () => number } = { intervalMs: 1000, timeoutMs: 2000 },
  ) {}

  /** Resolves when the database answered recently; rejects with UNAVAILABLE otherwise. */
  async check(): Promise<void> {
    const now = (this.opts.clock ?? Date.now)();
    const fresh = this.last !== undefined && now - this.last.startedAt < this.opts.intervalMs;
    if (!fresh && !this.waiting && !this.pending) this.waiting = this.start(now);
    if (this.waiting) await this.waiting;
    if (this.last?.error) throw this.last.error;
  }

  private start(startedAt: number): Promise<void> {
    this.probes++;
    this.pending = true;
    // Shared by every check waiting: it runs outside any one request's deadline.
    const running = runInScope(undefined, () => this.probe()).finally(() => {
      this.pending = false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    });
    return Promise.race([running, timeout])
      .then(
        () => {
          this.last = { startedAt };
        },
        (err: unknown) => {
          this.last = { startedAt, error: unavailable(err) };
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.waiting = undefined;
      });
  }
}

function unavailable(err: unknown): RayonError {
  if (err instanceof RayonError && err.code === 'UNAVAILABLE') return err;
  return new RayonError('UNAVAILABLE', 'the database does not answer; retry shortly', { cause: err });
}
