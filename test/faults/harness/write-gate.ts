import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { withPostgresClient } from '../../../runtime/postgres-database.js';
import { processOwningLocalPort } from './socket-owner.js';

// Advisory lock key of the gate; any number no other code uses.
const GATE_LOCK = 8_512_001;

/**
 * Installs a gate on batch writes: a statement trigger on `readings` that takes a shared
 * advisory lock after the batch's rows are inserted. Open, it costs nothing; closed
 * ({@link closeWriteGate}), every batch write waits inside its open transaction, rows
 * written but not committed, until the test opens it again. So a fault lands mid-write
 * deterministically, however slow the machine.
 */
export async function installWriteGate(databaseUrl: string): Promise<void> {
  await withPostgresClient(databaseUrl, async (client) => {
    await client.query(`
      CREATE OR REPLACE FUNCTION fault_write_gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(${GATE_LOCK});
        RETURN NULL;
      END $$`);
    // A backend waiting at the gate would otherwise notice that its client was killed
    // only once the gate opens, holding its uncommitted rows (and their unique-key
    // locks) until then. With the check, it aborts within 100 ms, as one that is
    // running a query would (PostgreSQL ≥ 14; applies to open sessions on reload).
    await client.query(`ALTER SYSTEM SET client_connection_check_interval = '100ms'`);
    await client.query('SELECT pg_reload_conf()');
    await client.query('DROP TRIGGER IF EXISTS fault_write_gate ON readings');
    await client.query('CREATE TRIGGER fault_write_gate AFTER INSERT ON readings FOR EACH STATEMENT EXECUTE FUNCTION fault_write_gate()');
  });
}

/** A closed gate: batch writes reaching it wait until {@link ClosedGate.open}. */
export interface ClosedGate {
  /** Lets the waiting writes (and every later one) through. Idempotent. */
  open(): Promise<void>;
}

export async function closeWriteGate(databaseUrl: string): Promise<ClosedGate> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {});
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1)', [GATE_LOCK]);
  let opening: Promise<void> | undefined;
  return { open: () => (opening ??= client.end()) };
}

/** A batch write caught at the gate: its server process, transaction, and the client process writing it. */
export interface OpenWrite {
  backendPid: number;
  /** The transaction's id (txid): it has written rows, so it has one. */
  txid: string;
  /** PID of the stack process whose connection runs the write (socket-owner.ts). */
  writerPid: number;
}

/**
 * Waits until a connection of one of `writerPids` is inside a batch write
 * (`insert_readings`), rows written, held at the closed gate, or behind another write
 * held there (the same reading in two jobs: the second insert waits for the first).
 */
export async function waitForOpenWrite(databaseUrl: string, writerPids: readonly number[], timeoutMs = 30_000): Promise<OpenWrite> {
  const deadline = Date.now() + timeoutMs;
  return withPostgresClient(databaseUrl, async (client) => {
    for (;;) {
      // A fresh cluster is in xid epoch 0, so the 32-bit backend_xid is the txid.
      const { rows } = await client.query<{ pid: number; txid: string; client_port: number }>(
        `SELECT pid, backend_xid::text AS txid, client_port FROM pg_stat_activity
          WHERE application_name = 'urbansense' AND query LIKE '%insert_readings%'
            AND backend_xid IS NOT NULL AND wait_event_type = 'Lock' AND wait_event IN ('advisory', 'transactionid')`,
      );
      for (const row of rows) {
        const writerPid = await processOwningLocalPort(row.client_port, writerPids);
        if (writerPid !== undefined) return { backendPid: row.pid, txid: row.txid, writerPid };
      }
      if (Date.now() > deadline) throw new Error(`no batch write of processes ${writerPids.join(', ')} reached the gate within ${timeoutMs} ms`);
      await delay(50);
    }
  });
}

/** How the transaction ended, `committed` or `aborted` (txid_status), once it has. */
export async function transactionOutcome(databaseUrl: string, write: OpenWrite, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  return withPostgresClient(databaseUrl, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ status: string }>('SELECT txid_status($1::bigint) AS status', [write.txid]);
      const status = rows[0]?.status ?? 'unknown';
      // A backend notices its client is gone only when it next talks to it.
      if (status !== 'in progress' || Date.now() > deadline) return status;
      await delay(50);
    }
  });
}
