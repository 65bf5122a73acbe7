import { createRequire } from 'node:module';
import type { ChalkInstance } from 'chalk';
import type Table from 'cli-table3';
import { TerminalStyle } from './terminal-text.js';

// cli-table3 (and the string-width family it requires) is loaded by the first table, not by
// every start of the CLI: `rayon --help` prints none.
const require = createRequire(import.meta.url);

/**
 * Output discipline: data to stdout (a table, or JSON with --json); everything else to stderr.
 * Every line for a person goes through `style.render`, so control characters in stored text
 * (a user's name, a reason) are shown escaped, never acted on by the terminal; JSON escapes its own.
 */
export class Output {
  readonly c: ChalkInstance;
  private readonly style: TerminalStyle;
  constructor(
    readonly json: boolean,
    /** Colour the text: decided by the caller (the flags, NO_COLOR, FORCE_COLOR, a terminal on stderr). */
    color: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    this.style = new TerminalStyle(color);
    this.c = this.style.c;
  }

  /** A table cell or a record's value: one line, every control character escaped. */
  private cell(v: unknown): string {
    return this.style.render(formatCell(v));
  }

  /** A text line: control characters escaped, line breaks kept. */
  private line(text: string): string {
    return this.style.render(text, { keepNewlines: true });
  }

  /** Machine-readable data (stdout). */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
  }

  /** Human text meant as the command's result (stdout). */
  text(line = ''): void {
    this.stdout.write(`${this.line(line)}\n`);
  }

  table(head: string[], rows: unknown[][]): void {
    const Table = require('cli-table3') as typeof import('cli-table3');
    const t = new Table({ head: head.map((h) => this.cell(this.c.bold(h))), style: { head: [], border: [] }, chars: COMPACT });
    for (const r of rows) t.push(r.map((v) => this.cell(v)));
    this.stdout.write(`${t.toString()}\n`);
  }

  /** Key/value block for one object. */
  record(obj: Record<string, unknown>): void {
    const width = Math.max(...Object.keys(obj).map((k) => k.length));
    for (const [k, v] of Object.entries(obj)) this.stdout.write(`${this.cell(k.padEnd(width))}  ${this.cell(v)}\n`);
  }

  info(msg: string): void {
    this.stderr.write(`${this.line(msg)}\n`);
  }

  success(msg: string): void {
    this.stderr.write(`${this.line(`${this.c.green('✔')} ${msg}`)}\n`);
  }

  warn(msg: string): void {
    this.stderr.write(`${this.line(`${this.c.yellow('warning:')} ${msg}`)}\n`);
  }

  error(msg: string): void {
    this.stderr.write(`${this.line(`${this.c.red('error:')} ${msg}`)}\n`);
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

/** No rule between body rows: a screen holds twice the rows, and each row stays one line. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
