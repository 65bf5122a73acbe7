import type { Knex } from 'knex';
import { RayonError, notFound, type FieldError } from '../errors.js';
import { audit } from '../audit/index.js';
import { normaliseTerritoryCode } from './territories.js';

export interface UserInput {
  id: string;
  email: string;
  name: string;
  territory: string;
  created_at?: Date;
  beta?: boolean;
}

export const USER_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Validate one user's fields; returns every problem, named by field. */
export function validateUser(u: Partial<Record<keyof UserInput, unknown>>, territories: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof u.id !== 'string' || !USER_ID_RE.test(u.id)) errs.push({ where: 'id', message: 'must be 1-64 characters of A-Z a-z 0-9 _ . -' });
  if (typeof u.email !== 'string' || u.email.length > 254 || !EMAIL_RE.test(u.email)) errs.push({ where: 'email', message: 'must be an email address' });
  if (typeof u.name !== 'string' || u.name.trim().length === 0 || u.name.length > 200) errs.push({ where: 'name', message: 'must be 1-200 characters' });
  if (typeof u.territory !== 'string' || !territories.has(u.territory)) {
    errs.push({ where: 'territory', message: `must be one of ${[...territories].sort().join(', ')}` });
  }
  return errs;
}

export async function territoryCodes(db: Knex): Promise<Set<string>> {
  const rows: Array<{ code: string }> = await db('territories').select('code');
  return new Set(rows.map((r) => r.code));
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Insert or update users by id, with their balance and streak rows, in the caller's transaction.
 * An email already used by another user (case-insensitive) is refused with the row named.
 */
export async function upsertUsers(trx: Knex.Transaction, users: UserInput[], now: Date): Promise<UpsertResult> {
  const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  const chunk = 500;
  for (let i = 0; i < users.length; i += chunk) {
    const part = users.slice(i, i + chunk);
    const { rows } = await trx.raw(
      `with input as (
         select * from jsonb_to_recordset(?::jsonb) as x(id text, email text, name text, territory text, created_at timestamptz, beta boolean)
       ), upd as (
         update users u set email = i.email, name = i.name, territory_code = i.territory,
                beta = coalesce(i.beta, u.beta), created_at = coalesce(i.created_at, u.created_at), updated_at = ?
           from input i
          where u.id = i.id
            and (u.email, u.name, u.territory_code, u.beta, u.created_at)
                is distinct from (i.email, i.name, i.territory, coalesce(i.beta, u.beta), coalesce(i.created_at, u.created_at))
         returning u.id
       ), ins as (
         insert into users (id, email, name, territory_code, beta, created_at, updated_at)
         select i.id, i.email, i.name, i.territory, coalesce(i.beta, false), coalesce(i.created_at, ?), ?
           from input i where not exists (select 1 from users u where u.id = i.id)
         on conflict (id) do nothing
         returning id
       ), b as (
         insert into points_balance (user_id) select id from ins on conflict do nothing
       ), s as (
         insert into streaks (user_id) select id from ins on conflict do nothing
       )
       select (select count(*) from ins)::int as inserted, (select count(*) from upd)::int as updated`,
      [JSON.stringify(part.map((u) => ({ ...u, created_at: u.created_at?.toISOString() ?? null, beta: u.beta ?? null }))), now, now, now],
    );
    result.inserted += rows[0].inserted;
    result.updated += rows[0].updated;
  }
  result.unchanged = users.length - result.inserted - result.updated;
  return result;
}

/** Create or update one user, audited, in one transaction (the caller's, if `db` is one). */
export async function addUser(db: Knex, input: UserInput, opts: { now: Date; actor: string }): Promise<UpsertResult> {
  const u = { ...input, territory: typeof input.territory === 'string' ? normaliseTerritoryCode(input.territory) : input.territory };
  return db.transaction(async (trx) => {
    const errs = validateUser(u, await territoryCodes(trx));
    if (errs.length) throw new RayonError('VALIDATION_ERROR', `invalid user: ${errs.map((e) => `${e.where} ${e.message}`).join('; ')}`, { details: errs });
    const r = await upsertUsers(trx, [u], opts.now).catch(mapEmailConflict);
    if (r.inserted || r.updated) {
      await audit(trx, { actor: opts.actor, action: r.inserted ? 'user.add' : 'user.update', target: u.id, details: { email: u.email, territory: u.territory }, at: opts.now });
    }
    return r;
  });
}

export function mapEmailConflict(err: unknown): never {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e?.code === '23505' && e.constraint === 'users_email_lower_key') {
    throw new RayonError('VALIDATION_ERROR', `email already used by another user${e.detail ? ` (${e.detail})` : ''}`);
  }
  throw err;
}

/** Flag or unflag a user for closed betas, audited, in one transaction. False when it already was. */
export async function setBeta(db: Knex, userId: string, beta: boolean, opts: { now: Date; actor: string }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('users').where({ id: userId }).andWhereNot({ beta }).update({ beta, updated_at: opts.now });
    if (n === 0) {
      const exists = await trx('users').where({ id: userId }).first('id');
      if (!exists) throw notFound('user', userId);
      return false;
    }
    await audit(trx, { actor: opts.actor, action: 'user.beta', target: userId, details: { beta }, at: opts.now });
    return true;
  });
}

export async function getUser(db: Knex, userId: string) {
  const u = await db('users as u')
    .join('territories as t', 't.code', 'u.territory_code')
    .leftJoin('points_balance as b', 'b.user_id', 'u.id')
    .leftJoin('streaks as s', 's.user_id', 'u.id')
    .where('u.id', userId)
    .first(
      'u.id', 'u.email', 'u.name', 'u.territory_code as territory', 't.timezone', 't.state as territory_state', 'u.beta', 'u.created_at',
      'b.balance', 'b.lifetime_points', 'b.status',
      's.current_streak', 's.max_streak', 's.last_check_in', 's.jokers_available',
    );
  if (!u) throw notFound('user', userId);
  const susp = await db('suspensions').where({ user_id: userId }).whereNull('lifted_at').first('reason', 'actor', 'started_at');
  return { ...u, suspended: Boolean(susp), suspension: susp ?? null };
}

/** A user's own row (SPEC "Users"). */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  territory_code: string;
  beta: boolean;
  created_at: Date;
  updated_at: Date;
}

/**
 * Find a user by id, or by email compared case-insensitively (support looks people up by either).
 * An id never holds `@` (USER_ID_RE), so the input's shape says which one it is. Unknown:
 * NOT_FOUND naming the input.
 */
export async function resolveUser(db: Knex, idOrEmail: string): Promise<UserRow> {
  const key = idOrEmail.trim();
  if (!key) throw new RayonError('VALIDATION_ERROR', 'USER must be a user id or an email', { details: [{ where: 'USER', message: 'required' }] });
  const q = db('users').first('id', 'email', 'name', 'territory_code', 'beta', 'created_at', 'updated_at');
  if (key.includes('@')) q.whereRaw('lower(email) = lower(?)', [key]);
  else q.where('id', key);
  const u = (await q) as UserRow | undefined;
  if (!u) throw notFound('user', idOrEmail);
  return u;
}

/** Import parsed users in one transaction, audited; an email taken by another user refuses the whole file. */
export async function importUsers(db: Knex, file: { users: UserInput[]; sha256: string; fileName: string }, opts: { now: Date; actor: string }): Promise<UpsertResult> {
  return db.transaction(async (trx) => {
    const r = await upsertUsers(trx, file.users, opts.now).catch(mapEmailConflict);
    if (r.inserted || r.updated) {
      await audit(trx, { actor: opts.actor, action: 'user.import', target: file.fileName, at: opts.now, details: { sha256: file.sha256, rows: file.users.length, ...r } });
    }
    return r;
  });
}

/** What an import of `file` would do, without writing: its rows, those already known by id, the new ones. */
export async function planUserImport(db: Knex, file: { users: UserInput[] }): Promise<{ rows: number; existing: number; new: number; dry_run: true }> {
  const found = await db('users').whereIn('id', file.users.map((u) => u.id)).count({ n: '*' }).first();
  const existing = Number(found?.n ?? 0);
  return { rows: file.users.length, existing, new: file.users.length - existing, dry_run: true };
}
