import type { Knex } from 'knex';

/**
 * `COPY … FROM STDIN` on the connection of a Knex transaction, for bulk staging on PostgreSQL.
 * pg-copy-streams is not a dependency: this is the few lines of the protocol it wraps (the pg
 * client hands the CopyInResponse to the active "submittable"; we send the data and CopyDone).
 * canCopy() is false when the connection cannot COPY (the embedded database): callers then use
 * multi-row INSERT.
 */

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(msg: string): void;
  stream: NodeJS.WritableStream & { writableLength: number };
}

interface PgClientLike {
  query(submittable: unknown): unknown;
  connection?: Partial<PgConnection>;
}

/** The data of a COPY: a buffer, or chunks produced as they are read (a file larger than memory). */
export type CopySource = Buffer | AsyncIterable<Buffer>;

class CopyIn {
  private error?: Error;
  constructor(
    private readonly text: string,
    private readonly data: CopySource,
    private readonly done: (err?: Error, rows?: number) => void,
  ) {}
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    if (Buffer.isBuffer(this.data)) {
      // Chunks of at most 1 MB: one CopyData message per chunk.
      for (let i = 0; i < this.data.length; i += 1 << 20) connection.sendCopyFromChunk(this.data.subarray(i, i + (1 << 20)));
      connection.endCopyFrom();
      return;
    }
    void this.pump(connection, this.data);
  }
  /** Stream the chunks, waiting for the socket to drain; a failing source aborts the COPY (CopyFail). */
  private async pump(connection: PgConnection, source: AsyncIterable<Buffer>): Promise<void> {
    try {
      for await (const chunk of source) {
        // The server refused the data already: stop reading (it ignores what is still sent).
        if (this.finished) return;
        for (let i = 0; i < chunk.length; i += 1 << 20) connection.sendCopyFromChunk(chunk.subarray(i, i + (1 << 20)));
        if (connection.stream.writableLength > 4 << 20) await new Promise((resolve) => connection.stream.once('drain', resolve));
      }
      if (!this.finished) connection.endCopyFrom();
    } catch (err) {
      if (this.finished) return;
      this.sourceError = err as Error;
      connection.sendCopyFail(`aborted by the client: ${(err as Error).message}`);
    }
  }
  private sourceError?: Error;
  /** Rows copied, from the server's `COPY n`. */
  rows = 0;
  handleCommandComplete(msg: { text?: string }): void {
    this.rows = Number(/^COPY (\d+)/.exec(msg?.text ?? '')?.[1] ?? 0);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  // The pg client forgets the active query on an error (handleReadyForQuery never comes then).
  handleError(err: Error): void {
    this.error = err;
    this.finish();
  }
  handleReadyForQuery(): void {
    this.finish();
  }
  private finished = false;
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    // The source's own error explains a CopyFail better than the server's echo of it.
    this.done(this.sourceError ?? this.error, this.rows);
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

/**
 * Send COPY data into `table (columns)`: text format (already escaped, one line per row) unless
 * `options` says otherwise (e.g. `format csv, header true, delimiter ';'`).
 */
export async function copyIn(trx: Knex.Transaction, table: string, columns: string[], data: CopySource, options = ''): Promise<number> {
  const client = await pgClientOf(trx);
  if (!client) throw new Error('this connection cannot COPY');
  const text = `copy ${table} (${columns.join(', ')}) from stdin${options ? ` with (${options})` : ''}`;
  return new Promise<number>((resolve, reject) => {
    client.query(new CopyIn(text, data, (err, rows) => (err ? reject(err) : resolve(rows ?? 0))));
  });
}

/** One value in COPY text format: \N for null, backslash escapes for the separators. */
export function copyText(v: string | number | boolean | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v;
}
