/** "60s", "5m", "1h30m", "250ms" or a bare number of seconds → milliseconds; NaN when unreadable. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * unit[m[2]];
    matched = re.lastIndex;
  }
  return matched === t.length && matched > 0 ? total : NaN;
}

/** "10MiB", "4MB", "327680", "1G" → bytes; NaN when unreadable. Binary units (KiB = 1024). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(text.trim());
  if (!m) return NaN;
  const power = { '': 0, b: 0, k: 1, m: 2, g: 3, t: 4 }[(m[2] ?? '').charAt(0).toLowerCase()] ?? 0;
  return Math.round(Number(m[1]) * 1024 ** power);
}
