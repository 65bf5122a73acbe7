/**
 * What the tool records about its own running: the HTTP mode's request statistics, per minute.
 *
 * The room's door: everything outside src/core/ops/ imports it through this file; the room's own
 * files import each other directly.
 */
export {
  addRequestStats,
  BUCKET_SECONDS,
  LATENCY_BOUNDS_MS,
  requestStatsSummary,
  type StatsRow,
} from './request-stats.js';
