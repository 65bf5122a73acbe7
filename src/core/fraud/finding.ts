import type { RuleName, RuleParams } from './params.js';

/** What one rule finds about one user (or one operator, keyed `operator:<actor>`). */
export interface Finding {
  user_id: string;
  rule: RuleName;
  /** 0–100: 50 at the threshold, growing with how far above it the figures are. */
  score: number;
  /** The figures that tripped the rule, in words, with the thresholds. */
  evidence: string;
  figures: Record<string, unknown>;
  /** The latest event that contributed: a dismissed case reopens only on later events. */
  latest_at: Date;
}

/** The scan window: events at instants since ≤ t ≤ until. */
export interface ScanWindow {
  since: Date;
  until: Date;
}

export type RuleRow = Record<string, unknown> & { user_id: string; latest_at: Date | string };

/**
 * One rule: ONE set-based SQL statement over the window (named bindings `:since`, `:until` and the
 * rule's parameters), and the wording of each row it returns.
 */
export interface RuleDef {
  name: RuleName;
  sql: string;
  describe(row: RuleRow, params: Record<string, number>): { score: number; evidence: string; figures: Record<string, unknown> };
}

/**
 * 50 when the figure equals the threshold, 25 more for each further threshold's worth above it,
 * at most 100 (twice the threshold scores 75, three times 100). A threshold of 0 counts as 1.
 */
export function scoreAbove(observed: number, threshold: number): number {
  const s = 50 + Math.floor((25 * (observed - threshold)) / Math.max(threshold, 1));
  return Math.max(0, Math.min(100, s));
}

/** A value taken from user input (a reference, an actor), quoted with every invisible or control character escaped. */
export function quote(text: string): string {
  return JSON.stringify(text).replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => {
    const cp = c.codePointAt(0) as number;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/** An instant as ISO 8601 UTC, without milliseconds when they are zero. */
export function iso(value: Date | string): string {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

/** A date column as YYYY-MM-DD, whichever way the driver returned it. */
export function day(value: unknown): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
}

export function num(value: unknown): number {
  return Number(value);
}

export type { RuleParams };
