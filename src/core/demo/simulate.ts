import type { AuditEntry } from '../audit/index.js';
import { capExceeded, dailyAward, streakTransition } from '../earning/index.js';
import { award, bonusOf } from '../scale/index.js';
import { daysBetween, localDate, recreditExpiry } from '../time.js';
import { DemoAccount, type Taken } from './account.js';
import type { DemoEvent, UserPlan } from './plan.js';
import { PROFILE_COMPLETION, PROFILES, REJECT_SHARE, type ActionCode } from './profiles.js';
import type { RowBuffer } from './writers.js';
import { DEMO_ACTORS, type DemoReward, type DemoWorld } from './world.js';

/**
 * One user's history, day by day through the period: the nightly expiry, then the day's events
 * in time order, each through the real rules — the streak transition and its jokers, the daily
 * award with the multiplier and the status bonus, action caps, first-expiring-first debits, the
 * re-credit expiry of refunds. Refusals are what the real paths would refuse (a cap reached is
 * recorded in refused_earns, as earn does).
 */

/** What a batch of users leaves for its audit rows and the summary. */
export interface BatchLog {
  earnIds: number[];
  expireIds: number[];
  audits: AuditEntry[];
  points: { credited: number; redeemed: number; refunded: number; expired: number };
  redemptions: { fulfilled: number; pending: number; rejected: number };
}

export function emptyLog(): BatchLog {
  return { earnIds: [], expireIds: [], audits: [], points: { credited: 0, redeemed: 0, refunded: 0, expired: 0 }, redemptions: { fulfilled: 0, pending: 0, rejected: 0 } };
}

interface OpenRedemption {
  row: (string | number | boolean | null)[];
  reward: DemoReward;
  taken: Taken[];
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function simulateUser(world: DemoWorld, plan: UserPlan, buf: RowBuffer, log: BatchLog): void {
  const t = plan.territory;
  const rng = plan.rng;
  const profile = PROFILES[plan.profile];
  const acc = new DemoAccount(world, buf, plan.id, t, plan.createdAt);
  const self = `user:${plan.id}`;
  const createdDay = localDate(plan.createdAt, t.tz);
  const first = createdDay > t.start ? daysBetween(t.start, createdDay) : 0;
  const counts = new Map<string, { day: string; today: number; ever: number }>();
  const decisions = new Map<string, DemoEvent[]>();
  const open = new Map<number, OpenRedemption>();
  let refs = 0;
  let activeDay = 0;

  for (let i = first; i < t.days.length; i++) {
    const day = t.days[i];
    const dayStart = t.dayStarts[i];
    const expired = acc.expireDue(dayStart, day, DEMO_ACTORS.expiry);
    if (expired) {
      log.expireIds.push(expired.id);
      log.points.expired += expired.points;
    }

    const scripted = plan.script.get(day);
    const events: DemoEvent[] = [...(scripted?.events ?? []), ...(decisions.get(day) ?? [])];
    // Events happen after the account exists: on its first day, from a minute after its creation.
    const from = Math.max(6 * 3600, day === createdDay ? Math.ceil((plan.createdAt.getTime() - dayStart.getTime()) / 1000) + 60 : 0);
    if (!plan.scriptOnly && !scripted?.replace && activeDay < plan.activeDays && from < 22 * 3600) {
      drawDay(plan, dayStart, from, events, activeDay === 0, () => `${plan.id}-${++refs}`);
      if (profile.collect > 0) activeDay++;
    }
    events.sort((a, b) => a.at.getTime() - b.at.getTime());
    const scale = world.scaleOn(day);
    const doc = scale.document;

    for (const ev of events) {
      if (ev.kind === 'collect') {
        const tr = streakTransition(acc.streak, day, doc.daily);
        if (tr.kind === 'already_collected') continue;
        const { points, m100, bonusPct } = dailyAward(doc, tr.streakDay, acc.status);
        acc.credit({
          type: 'daily', amount: points, at: ev.at, day, dayIndex: i, key: `daily:${plan.id}:${day}`, scale, earning: true,
          fields: { streak_day: tr.streakDay, m100, jokers_used: tr.jokersUsed, bonus_pct: bonusPct, scale_version: scale.version, actor: self },
        });
        acc.streak = tr.next;
        log.points.credited += points;
        world.countRequest(ev.at, 'collect-daily', '2xx');
      } else if (ev.kind === 'earn') {
        const action = doc.actions[ev.action];
        if (!action) continue;
        let c = counts.get(ev.action);
        if (!c) counts.set(ev.action, (c = { day, today: 0, ever: 0 }));
        if (c.day !== day) Object.assign(c, { day, today: 0 });
        if (capExceeded(action, c)) {
          buf.refused.push([plan.id, ev.action, ev.ref, 'CAP_REACHED', day, t.code, ev.at.toISOString()]);
          world.countRequest(ev.at, 'earn', '4xx');
          continue;
        }
        const bonusPct = bonusOf(acc.status, doc.statuses);
        const points = award(action.points, 100, bonusPct);
        log.earnIds.push(acc.credit({
          type: 'earn', amount: points, at: ev.at, day, dayIndex: i, key: `earn:${plan.id}:${ev.action}:${ev.ref}`, scale, earning: true,
          fields: { action_type: ev.action, reference_id: ev.ref, m100: 100, bonus_pct: bonusPct, scale_version: scale.version, actor: DEMO_ACTORS.marketplace },
        }));
        c.today++;
        c.ever++;
        log.points.credited += points;
        world.countRequest(ev.at, 'earn', '2xx');
      } else if (ev.kind === 'redeem') {
        redeem(world, plan, acc, ev, i, buf, log, open, decisions);
      } else if (ev.kind === 'decide') {
        decide(world, plan, acc, ev, i, log, open, scale);
      } else {
        const batchId = `batch_${world.prefix.replace(/[^A-Za-z0-9]/g, '')}n${world.ids.batch++}`;
        buf.batches.push([batchId, 'manual', ev.actor, ev.reason, ev.ticket, 1, 1, ev.at.toISOString()]);
        const id = acc.credit({
          type: 'adjustment', amount: ev.amount, at: ev.at, day, dayIndex: i, key: `adjust:${batchId}`, scale, earning: true,
          fields: { batch_id: batchId, actor: ev.actor, reason: ev.reason, ticket: ev.ticket },
        });
        log.points.credited += ev.amount;
        log.audits.push({
          actor: ev.actor, action: 'points.adjust', target: plan.id, at: ev.at,
          details: { batch_id: batchId, amount: ev.amount, requested: ev.amount, shortfall: 0, reason: ev.reason, ticket: ev.ticket, transaction_id: id },
        });
      }
    }
  }
  for (const r of open.values()) if (r.row[4] === 'pending') log.redemptions.pending++;

  acc.writeLots();
  const last = acc.lastChange.toISOString();
  buf.users.push([plan.id, plan.email, plan.name, t.code, t.beta, plan.createdAt.toISOString(), plan.createdAt.toISOString()]);
  buf.balances.push([plan.id, acc.balance, acc.lifetime, acc.status, last]);
  buf.streaks.push([plan.id, acc.streak.current, acc.streak.max, acc.streak.lastCheckIn, acc.streak.jokers, last]);
}

/** A drawn day of the user's profile: a collection, actions, perhaps a redemption. */
function drawDay(plan: UserPlan, dayStart: Date, from: number, events: DemoEvent[], firstActive: boolean, ref: () => string): void {
  const rng = plan.rng;
  const profile = PROFILES[plan.profile];
  const start = dayStart.getTime();
  const when = () => new Date(start + rng.int(from, 22 * 3600 + 59 * 60) * 1000);
  if (rng.chance(profile.collect)) events.push({ kind: 'collect', at: when() });
  if (firstActive && profile.collect > 0 && rng.chance(PROFILE_COMPLETION)) events.push({ kind: 'earn', at: when(), action: 'profile_completed', ref: `profile-${plan.id}` });
  for (const [action, mean] of Object.entries(profile.actions) as Array<[ActionCode, number]>) {
    const n = rng.count(mean);
    for (let i = 0; i < n; i++) events.push({ kind: 'earn', at: when(), action, ref: `${action.slice(0, 3)}-${ref()}` });
  }
  if (rng.chance(profile.redeem)) events.push({ kind: 'redeem', at: when() });
}

function redeem(world: DemoWorld, plan: UserPlan, acc: DemoAccount, ev: Extract<DemoEvent, { kind: 'redeem' }>, i: number, buf: RowBuffer, log: BatchLog, open: Map<number, OpenRedemption>, decisions: Map<string, DemoEvent[]>): void {
  const t = plan.territory;
  const day = t.days[i];
  const rng = plan.rng;
  const affordable = t.rewards.filter((r) => r.cost <= acc.balance && world.unitLeft(r) && (ev.minCost === undefined || r.cost >= ev.minCost));
  if (affordable.length === 0) return;
  const reward = ev.minCost === undefined ? rng.pick(affordable) : affordable.reduce((a, b) => (b.cost < a.cost ? b : a));
  const id = world.ids.redemption++;
  const d = acc.debit({ type: 'redeem', amount: reward.cost, at: ev.at, day, key: `redeem:${plan.id}:${id}`, fields: { redemption_id: id, actor: `user:${plan.id}` } });
  world.takeUnit(reward);
  world.countRequest(ev.at, 'redeem', '2xx');
  log.points.redeemed += reward.cost;
  const instant = reward.fulfilment === 'instant';
  const row = [plan.id, id, reward.id, reward.cost, instant ? 'fulfilled' : 'pending', instant ? voucher(rng) : null, t.code, d.id, null, ev.at.toISOString(), instant ? ev.at.toISOString() : null, null, null];
  buf.redemptions.push(row);
  open.set(id, { row, reward, taken: d.taken });
  if (instant) {
    log.redemptions.fulfilled++;
    return;
  }
  // Ops decide on one of the next three working days; after the history's end it stays pending.
  const decideIndex = i + rng.int(1, 3);
  const seconds = rng.int(8 * 3600, 18 * 3600);
  const drawn = !rng.chance(REJECT_SHARE);
  const approve = ev.decision ? ev.decision === 'approve' : drawn;
  if (decideIndex >= t.days.length) return;
  const decideDay = t.days[decideIndex];
  const decideAt = new Date(t.dayStarts[decideIndex].getTime() + seconds * 1000);
  const list = decisions.get(decideDay) ?? [];
  list.push({ kind: 'decide', at: decideAt, redemptionId: id, approve });
  decisions.set(decideDay, list);
}

function decide(world: DemoWorld, plan: UserPlan, acc: DemoAccount, ev: Extract<DemoEvent, { kind: 'decide' }>, i: number, log: BatchLog, open: Map<number, OpenRedemption>, scale: ReturnType<DemoWorld['scaleOn']>): void {
  const r = open.get(ev.redemptionId)!;
  const decidedAt = ev.at.toISOString();
  const rewardId = r.reward.id;
  if (ev.approve) {
    r.row[4] = 'fulfilled';
    r.row[10] = decidedAt;
    r.row[11] = DEMO_ACTORS.ops;
    log.redemptions.fulfilled++;
    log.audits.push({ actor: DEMO_ACTORS.ops, action: 'redemption.approve', target: `redemption:${ev.redemptionId}`, at: ev.at, details: { user_id: plan.id, reward_id: rewardId } });
    return;
  }
  const reason = 'the partner could not supply the reward';
  Object.assign(r.row, { 4: 'rejected', 10: decidedAt, 11: DEMO_ACTORS.ops, 12: reason });
  world.takeUnit(r.reward, -1);
  // The redemption's points come back as re-credits, one per distinct new expiry (decide.ts's rule).
  const byExpiry = new Map<number, number>();
  for (const l of r.taken) {
    const exp = recreditExpiry(l.expires_at, ev.at, plan.territory.tz).getTime();
    byExpiry.set(exp, (byExpiry.get(exp) ?? 0) + l.points);
  }
  const refunds: number[] = [];
  for (const [exp, amount] of [...byExpiry].sort((a, b) => a[0] - b[0])) {
    refunds.push(acc.credit({
      type: 'refund', amount, at: ev.at, day: plan.territory.days[i], dayIndex: i, key: `refund:${plan.id}:${ev.redemptionId}:${exp}`, scale, earning: false, expiresAt: new Date(exp),
      fields: { redemption_id: ev.redemptionId, actor: DEMO_ACTORS.ops, reason },
    }));
    log.points.refunded += amount;
  }
  r.row[8] = refunds[0] ?? null;
  log.redemptions.rejected++;
  log.audits.push({
    actor: DEMO_ACTORS.ops, action: 'redemption.reject', target: `redemption:${ev.redemptionId}`, at: ev.at,
    details: { user_id: plan.id, reward_id: rewardId, points_refunded: r.reward.cost, reason, refund_transactions: refunds },
  });
}

/** A voucher code in the shape redeem issues (XXXX-XXXX-XXXX-XXXX), drawn from the user's stream. */
function voucher(rng: UserPlan['rng']): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += CROCKFORD[rng.int(0, 31)] + (i % 4 === 3 && i < 15 ? '-' : '');
  return s;
}
