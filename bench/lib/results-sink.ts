import os from 'node:os';
import { fmt, type Row, type RowKind, type Sample, type TargetKind } from './results.js';

/** Where the cases put what they measure: the report's rows and notes, each logged as it comes. */
export class ResultsSink {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];

  constructor(private readonly log: (m: string) => void) {}

  /** The row for this case, target and label; made on first use, so later rounds add samples to it. */
  row(caseId: number, target: TargetKind, kind: RowKind, label: string, extra: Partial<Row> = {}): Row {
    const existing = this.rows.find((r) => r.caseId === caseId && r.target === target && r.label === label);
    if (existing) return existing;
    const r: Row = { caseId, target, kind, label, samples: [], ...extra };
    this.rows.push(r);
    return r;
  }

  /** One more sample of `row`, logged with its problems. */
  record(row: Row, s: Sample): void {
    row.samples.push(s);
    s.load1 ??= os.loadavg()[0];
    const rate = (s.files * 1000) / s.ms;
    const mbs = s.bytes / 1e6 / (s.ms / 1000);
    const parts = [
      `[case ${row.caseId} ${row.target}] ${row.label}: ${fmt.n(s.files)} files in ${fmt.s(s.ms)} s`,
      `${fmt.n(rate)} files/s`,
      `${fmt.n(mbs, 1)} MB/s`,
      s.rssMb !== null ? `RSS ${fmt.n(s.rssMb)} MB` : null,
      s.statements !== null && s.files ? `${fmt.sig(s.statements / s.files)} stmts/file` : null,
      s.connections !== null ? `${s.connections} conns` : null,
      s.httpRequests !== null && s.files ? `${fmt.sig(s.httpRequests / s.files)} HTTP/file` : null,
      s.wrongCounts ? `${s.wrongCounts} wrong child counts` : null,
      s.foreignCpu ? `others used ${fmt.n(s.foreignCpu * 100)}% of the CPU` : null,
    ].filter(Boolean);
    this.log(parts.join(', '));
    for (const p of s.problems) this.log(`    ! ${p}`);
  }

  /** A remark for the report (something skipped, and why), logged now and printed above the tables. */
  note(message: string): void {
    this.log(message);
    this.notes.push(message);
  }
}
