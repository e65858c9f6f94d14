/** A table as rows of cells, the first row its head. */
export type Row = string[];

/** Columns padded to their widest cell; from `rightAlignFrom` on, right-aligned (numbers). */
export function pad(rows: Row[], rightAlignFrom: number): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** The same rows as a Markdown table. */
export function markdown(rows: Row[], rightAlignFrom: number): string {
  const [head, ...body] = rows;
  if (head === undefined) return '';
  const sep = head.map((_, i) => (i >= rightAlignFrom ? '---:' : '---'));
  return [head, sep, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
