import type { Knex } from 'knex';

/**
 * `COPY … FROM STDIN` on the connection of a Knex transaction, for bulk staging on PostgreSQL.
 * pg-copy-streams is not a dependency: this is the few lines of the protocol it wraps (the pg
 * client hands the CopyInResponse to the active "submittable"; we send the data and CopyDone).
 * Returns false when the connection cannot COPY (the embedded database): callers then use
 * multi-row INSERT.
 */

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

interface PgClientLike {
  query(submittable: unknown): unknown;
  connection?: Partial<PgConnection>;
}

class CopyIn {
  private error?: Error;
  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly done: (err?: Error) => void,
  ) {}
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    // Chunks of at most 1 MB: one CopyData message per chunk.
    for (let i = 0; i < this.data.length; i += 1 << 20) connection.sendCopyFromChunk(this.data.subarray(i, i + (1 << 20)));
    connection.endCopyFrom();
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  handleError(err: Error): void {
    this.error = err;
  }
  handleReadyForQuery(): void {
    this.done(this.error);
  }
}

async function pgClientOf(trx: Knex.Transaction): Promise<PgClientLike | null> {
  // A Knex transaction's client hands out the transaction's own connection.
  const client = (trx as unknown as { client: { acquireConnection(): Promise<unknown> } }).client;
  const conn = (await client.acquireConnection()) as PgClientLike;
  return conn && typeof conn.connection?.sendCopyFromChunk === 'function' ? conn : null;
}

export async function canCopy(trx: Knex.Transaction): Promise<boolean> {
  return (await pgClientOf(trx)) !== null;
}

/** Send text-format COPY data (already escaped, one line per row) into `table (columns)`. */
export async function copyIn(trx: Knex.Transaction, table: string, columns: string[], data: Buffer): Promise<void> {
  const client = await pgClientOf(trx);
  if (!client) throw new Error('this connection cannot COPY');
  await new Promise<void>((resolve, reject) => {
    client.query(new CopyIn(`copy ${table} (${columns.join(', ')}) from stdin`, data, (err) => (err ? reject(err) : resolve())));
  });
}

/** One value in COPY text format: \N for null, backslash escapes for the separators. */
export function copyText(v: string | number | boolean | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v;
}
