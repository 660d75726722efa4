/** A short name for a statement text from pg_stat_statements (the importer's come from sql/queries). */
export function statementName(query: string): string {
  const q = query.replace(/--[^\n]*\n/g, ' ').replace(/\s+/g, ' ').trim();
  const known: [RegExp, string][] = [
    [/^COPY pg_temp\.vmb_stage/i, 'COPY into stage'],
    [/^WITH merged AS/i, 'merge-staged-files'],
    [/^SELECT remote_path, is_folder/i, 'find-ledger-entries'],
    [/^SELECT remote_path, onedrive_item_id/i, 'find-folders'],
    [/^WITH ins AS/i, 'insert-folder'],
    [/^CREATE TEMP TABLE/i, 'create-stage-table'],
    [/^(BEGIN|COMMIT|ROLLBACK)\b/i, '$1'],
  ];
  for (const [re, name] of known) {
    const m = re.exec(q);
    if (m) return name.replace('$1', (m[1] ?? '').toUpperCase());
  }
  return q.length > 48 ? `${q.slice(0, 48)}…` : q;
}
