import crypto from 'node:crypto';
import path from 'node:path';
import { RayonError, type FieldError } from '../errors.js';
import { readCsvTable } from '../csv/index.js';
import { validateUser, type UserInput } from './users.js';
import { normaliseTerritoryCode } from './territories.js';
import { parseInstant } from '../time.js';

/** `rayon user import`: columns id,email,name,territory, optional created_at and beta. */
export function parseUsersCsv(buf: Buffer, fileName: string, territories: Set<string>): { users: UserInput[]; sha256: string; fileName: string } {
  const { rows } = readCsvTable(buf, { required: ['id', 'email', 'name', 'territory'], optional: ['created_at', 'beta'] });
  const errors: FieldError[] = [];
  const users: UserInput[] = [];
  const ids = new Map<string, number>();
  const emails = new Map<string, number>();
  for (const { line, values } of rows) {
    const before = errors.length;
    for (const e of validateUser({ ...values, territory: values.territory === undefined ? undefined : normaliseTerritoryCode(values.territory) }, territories)) {
      errors.push({ where: `line ${line}, column ${e.where}`, message: e.message });
    }
    let createdAt: Date | undefined;
    if (values.created_at) {
      const d = parseInstant(values.created_at);
      if (!d) errors.push({ where: `line ${line}, column created_at`, message: 'must be an ISO instant with a zone, e.g. 2026-01-05T08:12:00Z' });
      else createdAt = d;
    }
    let beta: boolean | undefined;
    if (values.beta) {
      if (!/^(true|false|1|0|yes|no|oui|non)$/i.test(values.beta)) errors.push({ where: `line ${line}, column beta`, message: 'must be true or false' });
      else beta = /^(true|1|yes|oui)$/i.test(values.beta);
    }
    if (ids.has(values.id)) errors.push({ where: `line ${line}, column id`, message: `duplicate id, already on line ${ids.get(values.id)}` });
    else ids.set(values.id, line);
    const email = values.email?.toLowerCase();
    if (email && emails.has(email)) errors.push({ where: `line ${line}, column email`, message: `duplicate email (case-insensitive), already on line ${emails.get(email)}` });
    else if (email) emails.set(email, line);
    if (errors.length === before) {
      users.push({ id: values.id, email: values.email, name: values.name, territory: normaliseTerritoryCode(values.territory), created_at: createdAt, beta });
    }
  }
  if (errors.length) throw new RayonError('VALIDATION_ERROR', `${errors.length} problem(s) in ${path.basename(fileName)}; nothing was written`, { details: errors });
  if (users.length === 0) throw new RayonError('VALIDATION_ERROR', `${path.basename(fileName)} has a header but no rows`);
  return { users, sha256: crypto.createHash('sha256').update(buf).digest('hex'), fileName: path.basename(fileName) };
}
