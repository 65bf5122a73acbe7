/**
 * Demo data (SPEC "Demo data"): a realistic, deterministic history for try-outs, the KPI
 * dashboard, the fraud rules and the benchmarks — users with behaviour profiles, a catalog per
 * territory, redemptions, expiries, HTTP statistics and planted fraud patterns — written in bulk
 * through the real rules of the earning, ledger and scale rooms.
 *
 * The room's door: everything outside src/core/demo/ imports it through this file; the room's own
 * files import each other directly.
 */
export { DEMO_EXPIRY_DAYS, DEMO_LIMITS, loadDemo, type DemoOptions, type DemoResult } from './run.js';
export { PATTERN_MIN_DAYS, PATTERN_MIN_USERS } from './patterns.js';
