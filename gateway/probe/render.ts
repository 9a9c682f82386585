/**
 * The live check as the installer reads it on a terminal: a table per family, one row per
 * device (`reader gate-in   online   OK    vendor … secure true`), and under each failure
 * what to do. Plain text: it is also what a script greps and what goes into a ticket.
 */
import type { FamilyProbeReport, ProbeRun } from './run-probes.js';

export function renderTables(run: ProbeRun): string {
  const lines: string[] = [];
  // One set of column widths for every table, so the page reads as one list.
  const all = run.families.flatMap((f) => f.results);
  const widths = {
    kind: Math.max(0, ...all.map((r) => r.kind.length)),
    id: Math.max(18, ...all.map((r) => r.id.length)),
    status: Math.max(8, ...all.map((r) => r.status.length)),
  };
  for (const f of run.families) lines.push(table(f, widths));
  const { ok, failed } = count(run.families);
  lines.push(
    `${ok + failed} device(s) checked ${run.via === 'daemon' ? 'through the running daemon' : 'directly (the daemon is not running)'}: ${ok} OK, ${failed} FAIL`,
  );
  return `${lines.join('\n')}\n`;
}

function table(f: FamilyProbeReport, w: { kind: number; id: number; status: number }): string {
  const { kind: kindWidth, id: idWidth, status: statusWidth } = w;
  const rows = [`${f.family} (${f.results.length})`];
  for (const r of f.results) {
    rows.push(
      `  ${r.kind.padEnd(kindWidth)} ${r.id.padEnd(idWidth)} ${r.status.padEnd(statusWidth)} ${r.ok ? 'OK  ' : 'FAIL'}  ${r.detail}`,
    );
    if (!r.ok && r.advice) rows.push(`  ${''.padEnd(kindWidth)} ${''.padEnd(idWidth)} what to do: ${r.advice}`);
  }
  return rows.join('\n');
}

export function count(families: readonly FamilyProbeReport[]): { ok: number; failed: number } {
  let ok = 0;
  let failed = 0;
  for (const f of families)
    for (const r of f.results) {
      if (r.ok) ok++;
      else failed++;
    }
  return { ok, failed };
}
