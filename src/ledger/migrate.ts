import type pg from 'pg';
import Postgrator from 'postgrator';
import { fatal } from '../errors/vmb-error.js';
import { SQL_DIR } from './sql-files.js';
import { inTransaction } from './transaction.js';

const SCHEMA_TABLE = 'corporate.vmb_schema_migrations';
/** Any fixed number: serialises concurrent migrators across processes. */
const MIGRATION_LOCK_KEY = 0x766d62_01;

function migrator(client: pg.Client): Postgrator {
  return new Postgrator({
    migrationPattern: `${SQL_DIR}migrations/*.sql`,
    driver: 'pg',
    schemaTable: SCHEMA_TABLE,
    execQuery: (sql: string) => client.query(sql),
  });
}

export interface SchemaState {
  /** Highest migration applied; 0 when the schema does not exist yet. */
  current: number;
  /** Highest migration this binary ships. */
  latest: number;
}

/** Where the database stands, without writing anything (safe in a read-only transaction). */
export async function schemaState(client: pg.Client): Promise<SchemaState> {
  const latest = await migrator(client).getMaxVersion();
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [SCHEMA_TABLE]);
  if (exists.rows[0].t === null) return { current: 0, latest };
  const r = await client.query<{ v: string | null }>(`SELECT max(version) AS v FROM ${SCHEMA_TABLE}`);
  return { current: Number(r.rows[0].v ?? 0), latest };
}

export function assertNotNewer(state: SchemaState): void {
  if (state.current > state.latest) {
    throw fatal(
      'schema-too-new',
      `the database schema is at version ${state.current}, newer than this vmb-import knows (${state.latest}): upgrade vmb-import`,
    );
  }
}

/**
 * Apply pending migrations from sql/migrations in one transaction, under an advisory lock so two
 * runs starting together do not race. Refuses to touch a schema newer than this binary.
 * Returns the versions applied.
 */
export function migrate(client: pg.Client): Promise<number[]> {
  return inTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const state = await schemaState(client);
    assertNotNewer(state);
    const applied = state.current === state.latest ? [] : await migrator(client).migrate('max');
    return applied.map((m) => m.version);
  });
}
