import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';

/** Output discipline: data to stdout (a table, or JSON with --json); everything else to stderr. */
export class Output {
  readonly c: ChalkInstance;
  constructor(
    readonly json: boolean,
    color: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    this.c = new Chalk({ level: color && (process.stderr.isTTY || process.env.FORCE_COLOR) ? 1 : 0 });
  }

  /** Machine-readable data (stdout). */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
  }

  /** Human text meant as the command's result (stdout). */
  text(line = ''): void {
    this.stdout.write(`${line}\n`);
  }

  table(head: string[], rows: unknown[][]): void {
    const t = new Table({ head: head.map((h) => this.c.bold(h)), style: { head: [], border: [] } });
    for (const r of rows) t.push(r.map((v) => formatCell(v)));
    this.stdout.write(`${t.toString()}\n`);
  }

  /** Key/value block for one object. */
  record(obj: Record<string, unknown>): void {
    const width = Math.max(...Object.keys(obj).map((k) => k.length));
    for (const [k, v] of Object.entries(obj)) this.stdout.write(`${k.padEnd(width)}  ${formatCell(v)}\n`);
  }

  info(msg: string): void {
    this.stderr.write(`${msg}\n`);
  }

  success(msg: string): void {
    this.stderr.write(`${this.c.green('✔')} ${msg}\n`);
  }

  warn(msg: string): void {
    this.stderr.write(`${this.c.yellow('warning:')} ${msg}\n`);
  }

  error(msg: string): void {
    this.stderr.write(`${this.c.red('error:')} ${msg}\n`);
  }
}

export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
