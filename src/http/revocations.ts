import { performance } from 'node:perf_hooks';
import { RayonError } from '../core/errors.js';

/** How often a running server re-reads the revoked tokens (RAYON_REVOCATION_REFRESH_MS). */
export const DEFAULT_REVOCATION_REFRESH_MS = 15_000;
/**
 * How old the list may grow when refreshes fail before tokens carrying a `jti` are refused
 * (503): the SPEC promises a revoked token is refused within a minute.
 */
export const REVOCATION_MAX_STALE_MS = 60_000;

export interface RevocationCheck {
  /** Throw UNAUTHENTICATED if this token id is revoked (UNAVAILABLE if that cannot be known). */
  check(jti: string | undefined): void;
}

/**
 * The revoked token ids, held in memory and re-read every `refreshMs` by a timer, so the check
 * made on every request is a set lookup. When a refresh fails (database unreachable) the last
 * list keeps serving — fail-open — for at most `maxStaleMs` after the last good read; past that,
 * tokens with a `jti` are refused with UNAVAILABLE until a read succeeds (fail-closed), so a
 * revoked token is never accepted more than a minute after its revocation. Tokens without a
 * `jti` cannot be revoked, and are not held up by the list.
 */
export class RevocationList implements RevocationCheck {
  private jtis: ReadonlySet<string> = new Set();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly maxStaleMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly read: () => Promise<string[]>,
    private readonly opts: { refreshMs: number; maxStaleMs?: number; clock?: () => number },
  ) {
    this.maxStaleMs = opts.maxStaleMs ?? REVOCATION_MAX_STALE_MS;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Read the list now; a server that cannot read it at start does not start. */
  async load(): Promise<void> {
    const list = await this.read();
    this.jtis = new Set(list);
    this.loadedAt = this.clock();
  }

  /** Refresh every `refreshMs` until stop(); a failed refresh is reported and retried at the next tick. */
  start(onError: (err: unknown) => void): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.running = this.load()
          .catch(onError)
          .finally(() => {
            this.running = undefined;
            if (!this.stopped) tick();
          });
      }, this.opts.refreshMs);
      this.timer.unref();
    };
    this.stopped = false;
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  get size(): number {
    return this.jtis.size;
  }

  check(jti: string | undefined): void {
    if (jti === undefined) return;
    if (this.clock() - this.loadedAt > this.maxStaleMs) {
      throw new RayonError('UNAVAILABLE', 'token revocations cannot be read right now; retry shortly');
    }
    if (this.jtis.has(jti)) throw new RayonError('UNAUTHENTICATED', 'the token has been revoked');
  }
}
