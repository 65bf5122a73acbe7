import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUsersCsv, validateUser } from '../../src/core/users/index.js';
import { failure } from '../helpers/failure.js';

const TERRITORIES = new Set(['RE', 'GP', 'MQ', 'GF', 'YT', 'PM', 'BL', 'MF', 'WF', 'PF', 'NC']);
const FIXTURE = path.join(__dirname, '../fixtures/users.csv');
const parse = (text: string) => parseUsersCsv(Buffer.from(text, 'utf8'), 'users.csv', TERRITORIES);
const refused = (text: string) => failure(() => parse(text));
describe('parseUsersCsv', () => {
  it('reads the fixture of ten users, keeping the email as sent', () => {
    const r = parseUsersCsv(fs.readFileSync(FIXTURE), FIXTURE, TERRITORIES);
    expect(r.fileName).toBe('users.csv');
    expect(r.users).toHaveLength(10);
    expect(r.users[1]).toEqual({
      id: 'u-re-0002', email: 'JEAN.HOARAU@example.org', name: 'Jean Hoarau', territory: 'RE',
      created_at: new Date('2026-02-11T17:40:00Z'), beta: undefined,
    });
    expect(r.users[2].name).toBe('Anli Saïd');
  });

  it('upper-cases territory codes and reads the beta flag', () => {
    const r = parse('id,email,name,territory,beta\nu1,a@x.org,A,re,oui\nu2,b@x.org,B,MQ,false\nu3,c@x.org,C,YT,\n');
    expect(r.users.map((u) => [u.territory, u.beta])).toEqual([
      ['RE', true],
      ['MQ', false],
      ['YT', undefined],
    ]);
  });

  it('reports every bad row with line and column', () => {
    const e = refused(
      [
        'id,email,name,territory,created_at,beta',
        'u1,a@x.org,A,RE,,',
        'bad id,not-an-email,B,XX,2026-01-01,maybe',
        'u1,A@X.org,C,RE,,',
      ].join('\n'),
    );
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details!.map((d) => d.where)).toEqual([
      'line 3, column id',
      'line 3, column email',
      'line 3, column territory',
      'line 3, column created_at',
      'line 3, column beta',
      'line 4, column id',
      'line 4, column email',
    ]);
    expect(e.details![5].message).toBe('duplicate id, already on line 2');
    expect(e.details![6].message).toBe('duplicate email (case-insensitive), already on line 2');
  });

  it('refuses a header-only file', () => {
    expect(refused('id,email,name,territory\n').message).toBe('users.csv has a header but no rows');
  });
});

describe('validateUser', () => {
  it('names each bad field', () => {
    expect(validateUser({ id: 'x'.repeat(65), email: 'a@b', name: ' ', territory: 'FR' }, TERRITORIES).map((e) => e.where)).toEqual(['id', 'email', 'name', 'territory']);
    expect(validateUser({ id: 'u.1-_A', email: 'a@b.re', name: 'A', territory: 'RE' }, TERRITORIES)).toEqual([]);
  });
});
