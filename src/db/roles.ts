import type { Knex } from 'knex';
import { RayonError } from '../core/errors.js';
import { audit } from '../core/audit/index.js';
import { isPostgres } from './handle.js';
import { scramSha256Verifier } from './scram.js';
import { APP_WRITES, lostGrants, readGrants, type Grant } from './role-grants.js';

/**
 * `rayon db roles`: the PostgreSQL role `rayon serve` and the scheduled jobs run as, with only
 * what they need (SPEC "Security and safety" → Database roles). It may read every table of the
 * rayon schema and write what APP_WRITES lists — INSERT on the insert-only tables, the UPDATEs
 * of the hot paths, column by column. It owns nothing, so it can change no table, index or
 * trigger (ALTER TABLE … DISABLE TRIGGER needs the owner); it cannot create in the schema, and
 * it may not DELETE or TRUNCATE anything. Run again, it takes back whatever else the role was
 * given (memberships, other grants, PUBLIC's grants on rayon tables): a drifted role is fixed.
 * Everything happens in one transaction, with its audit row; the result is read back from the
 * catalog, and the refusals that matter are checked before it commits.
 */

export interface AppRoleOptions {
  role: string;
  /** Sets the role's password (stored as a SCRAM-SHA-256 verifier); absent: left as it is. */
  password?: string;
  actor: string;
  now: Date;
}

export interface AppRoleResult {
  role: string;
  database: string;
  schema: string;
  created: boolean;
  password: 'set' | 'unchanged';
  /** What the role holds after the run, read back from the catalog: object → privileges. */
  grants: Grant[];
  /** What the run took away that the role held or got through PUBLIC. */
  revoked: string[];
}

export const ROLE_NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const ROLES_LOCK_KEY = 727_080;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

function validate(opts: AppRoleOptions): void {
  if (!ROLE_NAME_RE.test(opts.role) || opts.role.startsWith('pg_')) {
    throw new RayonError('VALIDATION_ERROR', `--app-role must be 1-63 of a-z 0-9 _ (not starting with a digit or pg_), got ${JSON.stringify(opts.role)}`, {
      details: [{ where: '--app-role', message: 'not a plain lower-case role name' }],
    });
  }
  if (opts.password !== undefined && !/^[\x21-\x7e]{16,1024}$/.test(opts.password)) {
    // Printable ASCII: every client hashes it the same way (SASLprep changes nothing there).
    throw new RayonError('VALIDATION_ERROR', 'the password must be 16-1024 printable ASCII characters without spaces (e.g. openssl rand -base64 32)', {
      details: [{ where: '--password-env', message: '16-1024 printable ASCII characters' }],
    });
  }
}

export async function applyAppRole(db: Knex, opts: AppRoleOptions): Promise<AppRoleResult> {
  if (!isPostgres(db)) {
    throw new RayonError('VALIDATION_ERROR', 'database roles need a PostgreSQL server: the embedded database has no roles (set DATABASE_URL)');
  }
  validate(opts);
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [ROLES_LOCK_KEY]);
    const here = (await trx.raw('select current_user as me, current_database() as db, current_schema() as schema')).rows[0] as { me: string; db: string; schema: string };
    if (opts.role === here.me) throw new RayonError('INVALID_STATE', `${opts.role} is the role running this command (the owner): name another role for the app`);
    await assertSchemaCurrent(trx, here.schema);

    const existing = (await trx.raw('select oid from pg_roles where rolname = ?', [opts.role])).rows[0] as { oid: number } | undefined;
    if (existing) await assertOwnsNothing(trx, opts.role, existing.oid);
    const attrs = 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit';
    const password = opts.password === undefined ? '' : ` password '${scramSha256Verifier(opts.password)}'`;
    await trx.raw(`${existing ? 'alter' : 'create'} role ${ident(opts.role)} with ${attrs}${password}`);
    const role = ident(opts.role);
    const before = existing ? await readGrants(trx, opts.role, here.schema, here.db) : [];
    const revoked = await revokeEverything(trx, opts.role, here.db);

    const schema = ident(here.schema);
    await trx.raw(`grant connect on database ${ident(here.db)} to ${role}`);
    await trx.raw(`grant usage on schema ${schema} to ${role}`);
    await trx.raw(`grant select on all tables in schema ${schema} to ${role}`);
    for (const [table, w] of Object.entries(APP_WRITES)) {
      const t = `${schema}.${ident(table)}`;
      if (w.insert) await trx.raw(`grant insert on ${t} to ${role}`);
      if (w.update?.length) await trx.raw(`grant update (${w.update.map(ident).join(', ')}) on ${t} to ${role}`);
    }
    // Identity columns need no grant on their sequence; an explicit nextval (a redemption's id,
    // taken before its debit) does: USAGE on the sequences of the tables the role inserts into.
    const { rows: seqs } = await trx.raw(
      `select s.relname from pg_class s
         join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass
         join pg_class t on t.oid = d.refobjid
        where s.relkind = 'S' and s.relnamespace = ?::regnamespace and t.relname = any(?)`,
      [here.schema, Object.entries(APP_WRITES).filter(([, w]) => w.insert).map(([t]) => t)],
    );
    for (const s of seqs as Array<{ relname: string }>) await trx.raw(`grant usage on sequence ${schema}.${ident(s.relname)} to ${role}`);

    revoked.push(...(await revokePublic(trx, here.schema)));
    await assertRefusals(trx, opts.role, here.schema);
    const grants = await readGrants(trx, opts.role, here.schema, here.db);
    revoked.push(...lostGrants(before, grants));
    const result: AppRoleResult = {
      role: opts.role, database: here.db, schema: here.schema, created: !existing,
      password: opts.password === undefined ? 'unchanged' : 'set', grants, revoked,
    };
    await audit(trx, {
      actor: opts.actor, action: 'db.roles', target: `role:${opts.role}`, at: opts.now,
      details: { database: here.db, schema: here.schema, created: result.created, password: result.password, grants, revoked },
    });
    return result;
  });
}

/** The tables and columns APP_WRITES names must exist: an older schema is migrated first. */
async function assertSchemaCurrent(trx: Knex.Transaction, schema: string): Promise<void> {
  const { rows } = await trx.raw('select table_name, column_name from information_schema.columns where table_schema = ?', [schema]);
  const have = new Set((rows as Array<{ table_name: string; column_name: string }>).map((r) => `${r.table_name}.${r.column_name}`));
  const tables = new Set((rows as Array<{ table_name: string }>).map((r) => r.table_name));
  const missing = Object.entries(APP_WRITES).flatMap(([t, w]) => (tables.has(t) ? (w.update ?? []).filter((c) => !have.has(`${t}.${c}`)).map((c) => `${t}.${c}`) : [t]));
  if (missing.length) {
    throw new RayonError('INVALID_STATE', `the database schema is not current (missing: ${missing.join(', ')}): run \`rayon migrate latest\` first`);
  }
}

/** A role that owns objects here could alter them (drop triggers included): refused, named. */
async function assertOwnsNothing(trx: Knex.Transaction, name: string, oid: number): Promise<void> {
  const { rows } = await trx.raw(
    `select 'database ' || datname as what from pg_database where datdba = ?1 and datname = current_database()
     union all select 'schema ' || nspname from pg_namespace where nspowner = ?1
     union all select 'table ' || relname from pg_class where relowner = ?1 and relkind in ('r', 'p', 'v', 'm', 'S', 'f')
     union all select 'function ' || proname from pg_proc where proowner = ?1 and pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
     limit 10`.replace(/\?1/g, `${Number(oid)}::oid`),
  );
  if (rows.length) {
    throw new RayonError('INVALID_STATE', `role ${name} owns ${(rows as Array<{ what: string }>).map((r) => r.what).join(', ')}: an owner can alter its tables and disable their triggers, so it cannot be the app role; name another role, or reassign them first (REASSIGN OWNED BY ${name} TO <owner>)`);
  }
}

/** Take back memberships, every grant in the database's schemas, the database's, and default privileges. */
async function revokeEverything(trx: Knex.Transaction, name: string, database: string): Promise<string[]> {
  const role = ident(name);
  const revoked: string[] = [];
  const { rows: groups } = await trx.raw('select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles r on r.oid = m.member where r.rolname = ?', [name]);
  for (const g of groups as Array<{ rolname: string }>) {
    await trx.raw(`revoke ${ident(g.rolname)} from ${role}`);
    revoked.push(`membership in ${g.rolname}`);
  }
  const { rows: schemas } = await trx.raw(`select nspname from pg_namespace where nspname !~ '^pg_' and nspname <> 'information_schema'`);
  for (const { nspname } of schemas as Array<{ nspname: string }>) {
    const s = ident(nspname);
    for (const kind of ['tables', 'sequences', 'functions']) {
      await trx.raw(`revoke all on all ${kind} in schema ${s} from ${role}`);
      await trx.raw(`alter default privileges in schema ${s} revoke all on ${kind} from ${role}`);
    }
    await trx.raw(`revoke all on schema ${s} from ${role}`);
  }
  for (const kind of ['tables', 'sequences', 'functions', 'schemas']) await trx.raw(`alter default privileges revoke all on ${kind} from ${role}`);
  await trx.raw(`revoke all on database ${ident(database)} from ${role}`);
  return revoked;
}

/**
 * Grants to PUBLIC reach every role: none belongs on a rayon table or sequence, nor CREATE on
 * its schema (the default of PostgreSQL 14 and older).
 */
async function revokePublic(trx: Knex.Transaction, schema: string): Promise<string[]> {
  const revoked: string[] = [];
  const { rows: pub } = await trx.raw(
    `select c.relname, c.relkind from pg_class c cross join lateral aclexplode(c.relacl) a
      where c.relnamespace = ?::regnamespace and a.grantee = 0 and c.relkind in ('r', 'p', 'v', 'm', 'S')
      group by c.relname, c.relkind order by c.relname`,
    [schema],
  );
  for (const p of pub as Array<{ relname: string; relkind: string }>) {
    await trx.raw(`revoke all on ${p.relkind === 'S' ? 'sequence ' : ''}${ident(schema)}.${ident(p.relname)} from public`);
    revoked.push(`PUBLIC on ${p.relname}`);
  }
  const { rows: create } = await trx.raw(
    `select 1 from pg_namespace n cross join lateral aclexplode(n.nspacl) a where n.nspname = ? and a.grantee = 0 and a.privilege_type = 'CREATE'`,
    [schema],
  );
  if (create.length) {
    await trx.raw(`revoke create on schema ${ident(schema)} from public`);
    revoked.push(`PUBLIC CREATE on schema ${schema}`);
  }
  return revoked;
}

/**
 * The role's effective privileges (its own, PUBLIC's, any left through a grantor this command
 * cannot overrule) must not exceed APP_WRITES and reads: checked before committing, so a run
 * that could not take something back fails instead of passing silently.
 */
async function assertRefusals(trx: Knex.Transaction, name: string, schema: string): Promise<void> {
  const { rows: tables } = await trx.raw(
    `select c.relname as "table", p as privilege, null::text as col
       from pg_class c cross join unnest(array['INSERT', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
      where c.relnamespace = :schema::regnamespace and c.relkind in ('r', 'p')
        and case when p = 'INSERT' then has_any_column_privilege(:role::name, c.oid, p) else has_table_privilege(:role::name, c.oid, p) end
     union all
     select c.relname, 'UPDATE', a.attname::text
       from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relnamespace = :schema::regnamespace and c.relkind in ('r', 'p') and has_column_privilege(:role::name, c.oid, a.attnum, 'UPDATE')
     union all
     select 'schema ' || :schema::text, 'CREATE', null where has_schema_privilege(:role::name, :schema::text, 'CREATE')`,
    { role: name, schema },
  );
  const extra = (tables as Array<{ table: string; privilege: string; col: string | null }>).filter((r) => {
    const w = APP_WRITES[r.table];
    if (r.privilege === 'INSERT') return !w?.insert;
    if (r.privilege === 'UPDATE') return !w?.update?.includes(r.col as string);
    return true;
  });
  if (extra.length) {
    const list = extra.map((r) => `${r.privilege}${r.col ? `(${r.col})` : ''} on ${r.table}`).join(', ');
    throw new RayonError('INVALID_STATE', `role ${name} would still hold ${list} (granted by another role, or through a role it cannot leave): revoke it as its grantor, then run again`);
  }
}
