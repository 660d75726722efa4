import type pg from 'pg';

/**
 * `work` in one transaction on `client`: committed when it returns, rolled back when it throws
 * (a rollback that fails too is not the error to report: the one `work` threw is).
 */
export async function inTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
