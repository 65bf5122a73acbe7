import type { ScaleAction } from '../scale/index.js';

/**
 * Cap accounting for action earning (SPEC "Earning for actions"), pure. The counts are the
 * user's non-reverted `earn` rows for the action, in the local day and ever, whatever the scale
 * version that credited them.
 */
export interface CapCounts {
  today: number;
  ever: number;
}

export interface CapHit {
  cap: 'daily_cap' | 'lifetime_cap';
  limit: number;
  used: number;
}

/** The cap one more earn would exceed, or null when the earn fits. */
export function capExceeded(action: ScaleAction, counts: CapCounts): CapHit | null {
  if (action.lifetime_cap !== undefined && counts.ever >= action.lifetime_cap) {
    return { cap: 'lifetime_cap', limit: action.lifetime_cap, used: counts.ever };
  }
  if (action.daily_cap !== undefined && counts.today >= action.daily_cap) {
    return { cap: 'daily_cap', limit: action.daily_cap, used: counts.today };
  }
  return null;
}

export const ACTION_TYPE_RE = /^[a-z][a-z0-9_]{0,63}$/;
