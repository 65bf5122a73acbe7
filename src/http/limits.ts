import type { Server } from 'node:http';
import type { ServerLimits } from '../config/serve.js';

/** The server's limits, with what tests may shorten (the headers timeout). */
export interface SocketLimits extends ServerLimits {
  /** How long a client may take to send a request's headers (slowloris). */
  headersTimeoutMs: number;
}

export const DEFAULT_LIMITS: SocketLimits = {
  requestTimeoutMs: 10_000,
  maxConnections: 512,
  keepAliveTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
};

/** The whole request (headers and a body of at most 16 KiB) must have arrived by then. */
const RECEIVE_TIMEOUT_MS = 30_000;

/**
 * Bound what clients can hold open. Past `maxConnections` open sockets, Node closes each new
 * connection at once (`drop`; a gateway retries elsewhere or later) rather than letting it wait
 * behind the others; idle keep-alive sockets close after `keepAliveTimeoutMs`; a client that
 * trickles its headers or body is cut off (Node answers 408) once the headers or receive timeout
 * passes. The handler's own time is bounded separately, by the request deadline (deadline.ts).
 */
export function applySocketLimits(server: Server, limits: SocketLimits, onRefused: () => void): void {
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = Math.max(RECEIVE_TIMEOUT_MS, limits.headersTimeoutMs);
  // Node checks the headers and receive timeouts on this interval (30 s by default, which
  // would let a trickling client hold its socket up to 30 s longer than the timeout).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
  server.on('drop', onRefused);
}
