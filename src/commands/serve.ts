import type { Command } from 'commander';
import { action, examples } from './context.js';

/**
 * `rayon serve`: the HTTP mode. Runs until SIGTERM or SIGINT, then stops accepting, lets
 * in-flight requests finish, flushes request statistics and closes the pool.
 */
export function registerServe(program: Command): void {
  examples(
    program
      .command('serve')
      .description('run the HTTP mode for the app (needs RAYON_JWT_SECRET of at least 32 bytes, or a public key or JWKS)')
      .option('--host <host>', 'address to listen on (env RAYON_HOST)', undefined)
      .option('--port <port>', 'port to listen on, 0 for any free port (env RAYON_PORT, default 8080)')
      .addHelpText(
        'after',
        '\nEnvironment: RAYON_JWT_SECRET (required for HS256), RAYON_JWT_ISSUER, RAYON_JWT_AUDIENCE, RAYON_JWT_PUBLIC_KEY_FILE\n' +
          '(+ RAYON_JWT_PUBLIC_KEY_ALG=RS256|ES256), RAYON_JWT_JWKS_FILE, RAYON_RATE_LIMITS (e.g. "earn=60/min" or "off"),\n' +
          'RAYON_REDIS_URL (shared rate limits), RAYON_REDIS_PREFIX, RAYON_POOL_MAX (default 8), RAYON_STATS_FLUSH_MS,\nRAYON_CATALOG_TOTAL_TTL_S (default 5: how long a catalog page total may be reused), RAYON_LOG_LEVEL,\n' +
          'RAYON_REQUEST_TIMEOUT_MS (default 10000: later, 503 UNAVAILABLE), RAYON_MAX_CONNECTIONS (default 64 per pool\n' +
          'connection), RAYON_KEEP_ALIVE_TIMEOUT_MS (default 10000).\n' +
          'With a public key or JWKS, HS256 tokens are refused (and RAYON_JWT_SECRET is not needed) unless\nRAYON_JWT_ALLOW_HS256=1; a JWKS needs RAYON_JWT_AUDIENCE. RAYON_REVOCATION_REFRESH_MS (default 15000): how often revoked\ntokens are re-read.\n',
      )
      .action(
        action(async (ctx, { opts }) => {
          const { resolveServeConfig } = await import('../config/serve.js');
          const cfg = resolveServeConfig({ host: opts.host, port: opts.port });
          const { openDb } = await import('../db/connect.js');
          const { createServer } = await import('../http/server.js');
          const db = await openDb({
            databaseUrl: ctx.config.databaseUrl,
            dataDir: ctx.config.dataDir,
            poolMax: cfg.poolMax,
            // A request must not hang on a stuck lock, a slow query or an exhausted pool: fail,
            // answer 503, move on — within the request deadline at the latest.
            statementTimeoutMs: Math.min(5_000, cfg.limits.requestTimeoutMs),
            lockTimeoutMs: Math.min(5_000, cfg.limits.requestTimeoutMs),
            acquireTimeoutMs: Math.min(10_000, cfg.limits.requestTimeoutMs),
            applicationName: 'rayon-serve',
          });
          let server;
          try {
            server = await createServer({
              db,
              auth: cfg.auth,
              rateLimits: cfg.rateLimits,
              redisUrl: cfg.redisUrl,
              redisPrefix: cfg.redisPrefix,
              now: () => ctx.now(),
              statsFlushMs: cfg.statsFlushMs,
              catalogTotalTtlMs: cfg.catalogTotalTtlMs,
              logLevel: cfg.logLevel,
              revocationRefreshMs: cfg.revocationRefreshMs,
              limits: cfg.limits,
            });
            const url = await server.app.listen({ host: cfg.host, port: cfg.port });
            const limits = cfg.rateLimits === null ? 'off' : cfg.redisUrl ? 'shared through Redis' : 'in-process';
            if (ctx.config.json) ctx.out.data({ url, pid: process.pid });
            ctx.out.info(`rayon serve listening on ${url} (${db.label}; rate limits ${limits}; pid ${process.pid})`);
          } catch (err) {
            await server?.close().catch(() => undefined);
            await db.close();
            throw err;
          }
          const srv = server;
          await new Promise<void>((resolve) => {
            const stop = (signal: string) => {
              process.off('SIGTERM', onTerm);
              process.off('SIGINT', onInt);
              ctx.out.info(`${signal}: finishing in-flight requests…`);
              srv
                .close()
                .catch((err) => ctx.out.warn(`shutdown: ${(err as Error).message}`))
                .finally(() => db.close().finally(resolve));
            };
            const onTerm = () => stop('SIGTERM');
            const onInt = () => stop('SIGINT');
            process.on('SIGTERM', onTerm);
            process.on('SIGINT', onInt);
          });
          ctx.out.info('rayon serve stopped.');
        }),
      ),
    [
      'RAYON_JWT_SECRET=$(openssl rand -hex 32) rayon serve --port 8080',
      'RAYON_REDIS_URL=redis://127.0.0.1:6379 rayon serve --host 0.0.0.0',
    ],
  );
}
