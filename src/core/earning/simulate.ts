import type { Knex } from 'knex';
import { validationError } from '../errors.js';
import { award, bonusOf, listScaleVersions, raiseStatus, statusFor, versionInForce, type ScaleDocument, assertValidScale } from '../scale/index.js';
import { capExceeded } from './caps.js';
import { normaliseReference, referenceIdProblem } from './reference.js';
import { m100ForDay, NEW_STREAK, streakTransition, type StreakState } from './streak.js';
import { isIsoDate } from '../time.js';

/**
 * `scale simulate`: what the period's real events would have earned under a proposed scale.
 * Replayed per user, in time order, with the same pure rules as the live paths:
 *  - daily collections: the streak is replayed from the user's first collection under the
 *    proposal's joker rules, and each collection of the period is awarded with its multiplier;
 *  - earns: the credited ones and the ones refused for a cap or an unknown action (the
 *    proposal may accept them), with the proposal's points and caps (lifetime caps count the
 *    earns before the period); a reference credits once;
 *  - status bonuses follow lifetime points as they would have grown under the proposal, starting
 *    from the real lifetime points at the start of the period.
 * Reverted transactions are left out on both sides. Nothing is written.
 */

export interface SimulationRow {
  territory: string;
  action: string;
  actual_count: number;
  actual_points: number;
  actual_eur: string;
  proposed_count: number;
  proposed_points: number;
  proposed_eur: string;
  delta_points: number;
}

export interface StatusChange {
  user_id: string;
  actual_status: string;
  proposed_status: string;
  actual_lifetime: number;
  proposed_lifetime: number;
}

export interface Simulation {
  from: string;
  to: string;
  users: number;
  rows: SimulationRow[];
  total: SimulationRow;
  status_changes: StatusChange[];
}

interface Group {
  territory: string;
  action: string;
  ac: number;
  ap: number;
  aMicro: bigint;
  pc: number;
  pp: number;
  pMicro: bigint;
}

/** € amounts are kept in micro-euros (integers) and rounded half-up to the cent once, at the end. */
export function pointValueMicro(pointValueEur: number): bigint {
  return BigInt(Math.round(pointValueEur * 1_000_000));
}

export function formatEur(micro: bigint): string {
  const neg = micro < 0n;
  const abs = neg ? -micro : micro;
  const cents = (abs + 5_000n) / 10_000n;
  return `${neg ? '-' : ''}${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}

const CHUNK = 500;

export async function simulateScale(db: Knex, candidate: unknown, from: string, to: string): Promise<Simulation> {
  for (const [name, d] of [['--from', from], ['--to', to]] as const) {
    if (!isIsoDate(d)) throw validationError(`${name} must be a date YYYY-MM-DD, got ${JSON.stringify(d)}`, [{ where: name, message: 'not a date' }]);
  }
  if (to < from) throw validationError('--to must not be before --from', [{ where: '--to', message: `before --from ${from}` }]);
  const proposal = assertValidScale(candidate);
  const versions = await listScaleVersions(db);
  const pvByVersion = new Map(versions.map((v) => [v.version, pointValueMicro(v.document.point_value_eur)]));
  const actualAtEnd = versionInForce(versions, to).document;
  const proposedPv = pointValueMicro(proposal.point_value_eur);

  const userIds: string[] = (
    await db.raw(
      `select user_id from points_transactions where type in ('daily', 'earn') and local_date between ? and ?
       union
       select user_id from refused_earns where reason in ('CAP_REACHED', 'VALIDATION_ERROR') and local_date between ? and ?
       order by 1`,
      [from, to, from, to],
    )
  ).rows.map((r: { user_id: string }) => r.user_id);

  const groups = new Map<string, Group>();
  const group = (territory: string, action: string): Group => {
    const key = `${territory}\u0000${action}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { territory, action, ac: 0, ap: 0, aMicro: 0n, pc: 0, pp: 0, pMicro: 0n }));
    return g;
  };
  const statusChanges: StatusChange[] = [];

  for (let i = 0; i < userIds.length; i += CHUNK) {
    const ids = userIds.slice(i, i + CHUNK);
    const data = await loadChunk(db, ids, from, to);
    for (const id of ids) {
      const u = replayUser(proposal, data, id, from, (territory, action, actual, proposed) => {
        const g = group(territory, action);
        if (actual) {
          g.ac += 1;
          g.ap += actual.points;
          g.aMicro += BigInt(actual.points) * (pvByVersion.get(actual.version) ?? 0n);
        }
        if (proposed > 0) {
          g.pc += 1;
          g.pp += proposed;
          g.pMicro += BigInt(proposed) * proposedPv;
        }
      });
      const actualStatus = statusFor(u.actualLifetime, actualAtEnd.statuses).code;
      if (actualStatus !== u.proposedStatus) {
        statusChanges.push({ user_id: id, actual_status: actualStatus, proposed_status: u.proposedStatus, actual_lifetime: u.actualLifetime, proposed_lifetime: u.proposedLifetime });
      }
    }
  }

  const rows = [...groups.values()].sort((a, b) => a.territory.localeCompare(b.territory) || a.action.localeCompare(b.action)).map(toRow);
  const total = toRow(
    [...groups.values()].reduce(
      (t, g) => ({ ...t, ac: t.ac + g.ac, ap: t.ap + g.ap, aMicro: t.aMicro + g.aMicro, pc: t.pc + g.pc, pp: t.pp + g.pp, pMicro: t.pMicro + g.pMicro }),
      { territory: 'all', action: 'all', ac: 0, ap: 0, aMicro: 0n, pc: 0, pp: 0, pMicro: 0n },
    ),
  );
  return { from, to, users: userIds.length, rows, total, status_changes: statusChanges };
}

function toRow(g: Group): SimulationRow {
  return {
    territory: g.territory,
    action: g.action,
    actual_count: g.ac,
    actual_points: g.ap,
    actual_eur: formatEur(g.aMicro),
    proposed_count: g.pc,
    proposed_points: g.pp,
    proposed_eur: formatEur(g.pMicro),
    delta_points: g.pp - g.ap,
  };
}

interface Event {
  user_id: string;
  kind: 'daily' | 'earn' | 'refused' | 'adjustment';
  at: Date;
  seq: number;
  local_date: string;
  territory_code: string;
  amount: number;
  action_type: string | null;
  reference_id: string | null;
  scale_version: number | null;
  reverted: boolean;
}

interface ChunkData {
  lifetimeBefore: Map<string, number>;
  earnsBefore: Map<string, Map<string, number>>;
  /** Every daily check-in up to --to, and the period's earns, refusals and adjustments. */
  events: Map<string, Event[]>;
}

async function loadChunk(db: Knex, ids: string[], from: string, to: string): Promise<ChunkData> {
  const notReverted = `not exists (select 1 from transaction_reversals r where r.user_id = t.user_id and r.transaction_id = t.id)`;
  const before = await db.raw(
    `select t.user_id, t.type, t.action_type, sum(t.amount)::int as points, count(*)::int as n
       from points_transactions t
      where t.user_id = any(?) and t.local_date < ? and ${notReverted}
        and (t.type in ('daily', 'earn') or (t.type = 'adjustment' and t.amount > 0))
      group by 1, 2, 3`,
    [ids, from],
  );
  const lifetimeBefore = new Map<string, number>();
  const earnsBefore = new Map<string, Map<string, number>>();
  for (const r of before.rows) {
    lifetimeBefore.set(r.user_id, (lifetimeBefore.get(r.user_id) ?? 0) + r.points);
    if (r.type === 'earn') {
      if (!earnsBefore.has(r.user_id)) earnsBefore.set(r.user_id, new Map());
      earnsBefore.get(r.user_id)!.set(r.action_type, r.n);
    }
  }
  const ev = await db.raw(
    `select t.user_id, t.type as kind, t.created_at as at, t.id as seq, t.local_date::text as local_date, t.territory_code,
            t.amount, t.action_type, t.reference_id, t.scale_version, not ${notReverted} as reverted
       from points_transactions t
      where t.user_id = any(:ids) and t.local_date <= :to
        and (t.type = 'daily' or (t.local_date >= :from and (t.type = 'earn' or (t.type = 'adjustment' and t.amount > 0))))
     union all
     select e.user_id, 'refused', e.at, e.id, e.local_date::text, e.territory_code, 0, e.action_type, e.reference_id, null, false
       from refused_earns e
      where e.user_id = any(:ids) and e.local_date between :from and :to and e.reason in ('CAP_REACHED', 'VALIDATION_ERROR')
      order by 1, 3, 4`,
    { ids, from, to },
  );
  const events = new Map<string, Event[]>();
  for (const e of ev.rows as Event[]) {
    if (!events.has(e.user_id)) events.set(e.user_id, []);
    events.get(e.user_id)!.push({ ...e, at: new Date(e.at) });
  }
  return { lifetimeBefore, earnsBefore, events };
}

type Emit = (territory: string, action: string, actual: { points: number; version: number } | null, proposed: number) => void;

function replayUser(p: ScaleDocument, data: ChunkData, userId: string, from: string, emit: Emit) {
  const lifetimeStart = data.lifetimeBefore.get(userId) ?? 0;
  let actualLifetime = lifetimeStart;
  let proposedLifetime = lifetimeStart;
  let status = statusFor(lifetimeStart, p.statuses).code;
  let streak: StreakState = NEW_STREAK;
  const ever = new Map(data.earnsBefore.get(userId) ?? []);
  const perDay = new Map<string, number>();
  const credited = new Set<string>();

  const credit = (points: number) => {
    proposedLifetime += points;
    status = raiseStatus(status, proposedLifetime, p.statuses);
  };

  for (const e of data.events.get(userId) ?? []) {
    const inPeriod = e.local_date >= from;
    if (e.kind === 'daily') {
      const t = streakTransition(streak, e.local_date, p.daily);
      if (t.kind === 'already_collected') continue; // cannot happen on real rows: one per local day
      streak = t.next;
      if (!inPeriod || e.reverted) continue;
      const points = award(p.daily.base_points, m100ForDay(t.streakDay, p.daily.multipliers), bonusOf(status, p.statuses));
      emit(e.territory_code, 'daily', { points: e.amount, version: e.scale_version ?? 0 }, points);
      actualLifetime += e.amount;
      credit(points);
    } else if (e.kind === 'adjustment') {
      if (e.reverted) continue;
      actualLifetime += e.amount;
      credit(e.amount);
    } else {
      const action = e.action_type ?? '';
      const real = e.kind === 'earn' && !e.reverted ? { points: e.amount, version: e.scale_version ?? 0 } : null;
      if (e.kind === 'earn' && e.reverted) continue;
      if (real) actualLifetime += real.points;
      let points = 0;
      const def = p.actions[action];
      const refKey = `${action}\u0000${normaliseReference(e.reference_id ?? '')}`;
      const dayKey = `${action}\u0000${e.local_date}`;
      if (def && !credited.has(refKey) && referenceIdProblem(e.reference_id) === null) {
        if (!capExceeded(def, { today: perDay.get(dayKey) ?? 0, ever: ever.get(action) ?? 0 })) {
          points = award(def.points, 100, bonusOf(status, p.statuses));
          credited.add(refKey);
          perDay.set(dayKey, (perDay.get(dayKey) ?? 0) + 1);
          ever.set(action, (ever.get(action) ?? 0) + 1);
          credit(points);
        }
      }
      if (real || points > 0) emit(e.territory_code, action, real, points);
    }
  }
  return { actualLifetime, proposedLifetime, proposedStatus: status };
}
