import type { ResultPromise } from 'execa';
import { rayonProcess } from '../helpers/rayon-cli.js';
import { SECRET } from './helpers.js';

export interface ServeProcess {
  url: string;
  proc: ResultPromise;
  stderr(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | undefined>;
}

/** Start the built CLI's `rayon serve` on a free port and wait until it listens (needs `npm run build`). */
export async function spawnServe(databaseUrl: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const proc = rayonProcess(['serve', '--port', '0'], { DATABASE_URL: databaseUrl, RAYON_JWT_SECRET: SECRET, RAYON_RATE_LIMITS: 'off', RAYON_LOG_LEVEL: 'error', ...env });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rayon serve did not start within 60 s: ${err}`)), 60_000);
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void proc.then((r) => {
      clearTimeout(timer);
      reject(new Error(`rayon serve exited (${r.exitCode}) before listening: ${err}`));
    });
  });
  return {
    url,
    proc,
    stderr: () => err,
    async stop() {
      proc.kill('SIGTERM');
      const r = await proc;
      return r.exitCode;
    },
  };
}
