/**
 * The commissioning report (`gatehouse check --devices --report FILE.html`): one
 * self-contained HTML sheet the installer leaves with the property manager — compound, box
 * serial, date, installer, every device with its live result, identity and firmware, camera
 * snapshots embedded as data: URIs, and the outstanding warnings. No script, no external
 * resource (it is opened offline, printed, archived); print CSS for A4.
 *
 * Everything that comes from a device or the compound file is HTML-escaped: a camera's model
 * string or a reader's firmware field is text, never markup.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CompoundConfig } from '../../config/schema.js';
import type { DeviceProbeResult } from '../families/family.js';
import { VERSION } from '../version.js';
import { count } from './render.js';
import type { ProbeRun } from './run-probes.js';

export interface ReportInput {
  config: CompoundConfig;
  run: ProbeRun;
  /** When the check ran. */
  at: Date;
  installer?: string | undefined;
  box: { serial: string; source: string };
  /** Configuration warnings (`gatehouse check`) and the devices' own. */
  warnings: string[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Only base64 characters reach a data: URI, whatever a probe handed over. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png']);

/**
 * The box's own serial number: a Raspberry Pi's from the device tree, else the board's
 * (DMI, when readable), else the systemd machine id. With where it came from.
 */
export function boxSerial(read: (path: string) => string | undefined = readTrimmed): { serial: string; source: string } {
  for (const [path, source] of [
    ['/proc/device-tree/serial-number', 'device tree'],
    ['/sys/class/dmi/id/product_serial', 'DMI'],
    ['/etc/machine-id', 'machine id'],
  ] as const) {
    const v = read(path);
    if (v) return { serial: v, source };
  }
  return { serial: 'unknown', source: 'none readable' };
}

function readTrimmed(path: string): string | undefined {
  try {
    if (!existsSync(path)) return undefined;
    // The device tree string ends with a NUL.
    const v = readFileSync(path, 'utf8').replace(/\0/g, '').trim();
    return v || undefined;
  } catch {
    return undefined;
  }
}

export function renderReport(r: ReportInput): string {
  const { ok, failed } = count(r.run.families);
  const c = r.config;
  const title = `Commissioning report 调试验收报告 — ${c.compound.name ?? c.compound.id}`;
  const sections = r.run.families.map((f) => {
    const rows = f.results.map(deviceRow).join('\n');
    return `<section class="family"><h2>${escapeHtml(f.family)} <small>(${f.results.length})</small></h2>
<table><thead><tr><th>${bi('Device', '设备')}</th><th>${bi('Result', '结果')}</th><th>${bi('Identity / firmware', '标识 / 固件')}</th><th>${bi('What was seen', '检测情况')}</th></tr></thead><tbody>
${rows}
</tbody></table></section>`;
  });
  const snapshots = r.run.families
    .flatMap((f) => f.results)
    .filter((d) => d.snapshot && IMAGE_TYPES.has(d.snapshot.mime) && BASE64.test(d.snapshot.base64))
    .map(
      (d) =>
        `<figure><img alt="snapshot of ${escapeHtml(d.id)}" src="data:${d.snapshot!.mime};base64,${d.snapshot!.base64}"><figcaption>${escapeHtml(d.id)}</figcaption></figure>`,
    );
  const warnings = [...new Set([...r.warnings, ...r.run.families.flatMap((f) => f.results.flatMap((d) => d.warnings ?? []))])];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  @page { size: A4; margin: 14mm 12mm; }
  body { font: 10.5pt/1.35 system-ui, "Noto Sans", "Noto Sans CJK SC", sans-serif; color: #111; margin: 0 auto; max-width: 186mm; padding: 8mm 0; }
  h1 { font-size: 17pt; margin: 0 0 2mm; }
  h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
  h2 small { font-weight: normal; color: #555; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 5mm; margin: 0 0 3mm; }
  dl.meta dt { color: #555; } dl.meta dd { margin: 0; }
  .summary { font-weight: bold; padding: 2mm 3mm; border: 1px solid #999; }
  .summary.pass { background: #e8f5e9; } .summary.fail { background: #fdecea; }
  table { width: 100%; border-collapse: collapse; table-layout: fixed; }
  th, td { text-align: left; vertical-align: top; border-bottom: 1px solid #ddd; padding: 1.2mm 1.5mm; overflow-wrap: anywhere; }
  th { background: #f2f2f2; font-size: 9pt; }
  th:nth-child(1) { width: 22%; } th:nth-child(2) { width: 14%; } th:nth-child(3) { width: 28%; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .ok { color: #1b5e20; font-weight: bold; } .fail { color: #b71c1c; font-weight: bold; }
  .advice { color: #b71c1c; margin-top: 1mm; }
  .kind { color: #555; font-size: 9pt; }
  .zh { font-weight: normal; color: #555; }
  .snapshots { display: grid; grid-template-columns: repeat(2, 1fr); gap: 4mm; }
  figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
  figure img { width: 100%; height: auto; border: 1px solid #999; }
  figcaption { font-size: 9pt; color: #555; }
  ul.warnings li { margin-bottom: 1mm; }
  .sign { display: grid; grid-template-columns: 1fr 1fr; gap: 10mm; margin-top: 12mm; break-inside: avoid; }
  .sign div { border-top: 1px solid #111; padding-top: 1mm; font-size: 9pt; color: #555; }
  @media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<dl class="meta">
  <dt>${bi('Compound', '小区')}</dt><dd>${escapeHtml(c.compound.name ? `${c.compound.name} (${c.compound.id})` : c.compound.id)}</dd>
  <dt>${bi('Gateway', '网关')}</dt><dd>${escapeHtml(c.gateway.id)}</dd>
  <dt>${bi('Box serial', '设备序列号')}</dt><dd>${escapeHtml(r.box.serial)} <span class="kind">(${escapeHtml(r.box.source)})</span></dd>
  <dt>${bi('Date', '日期')}</dt><dd>${escapeHtml(
    r.at
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC'),
  )}</dd>
  <dt>${bi('Installer', '安装人员')}</dt><dd>${escapeHtml(r.installer ?? '—')}</dd>
  <dt>${bi('Software', '软件')}</dt><dd>Gatehouse ${escapeHtml(VERSION)}; checked ${r.run.via === 'daemon' ? 'through the running daemon' : 'directly (daemon stopped)'}</dd>
</dl>
<p class="summary ${failed ? 'fail' : 'pass'}">${ok + failed} device(s) checked: ${ok} OK, ${failed} FAIL</p>
${sections.join('\n')}
${snapshots.length ? `<section><h2>${bi('Camera snapshots', '摄像机快照')}</h2><div class="snapshots">${snapshots.join('\n')}</div></section>` : ''}
<section><h2>${bi('Outstanding warnings', '待处理警告')}</h2>
${warnings.length ? `<ul class="warnings">${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : `<p>${bi('None.', '无。')}</p>`}
</section>
<div class="sign"><div>${bi('Installer', '安装人员')}</div><div>${bi('Property manager', '物业经理')}</div></div>
</body></html>
`;
}

/** A label in English and Simplified Chinese: the sheet stays with a property manager who may read either. */
function bi(en: string, zh: string): string {
  return `${en} <span class="zh" lang="zh-Hans">${zh}</span>`;
}

function deviceRow(d: DeviceProbeResult): string {
  const identity = d.identity
    ? Object.entries(d.identity)
        .map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`)
        .join('<br>')
    : '—';
  return `<tr><td>${escapeHtml(d.id)}<br><span class="kind">${escapeHtml(d.kind)}</span></td>
<td><span class="${d.ok ? 'ok' : 'fail'}">${d.ok ? 'OK' : 'FAIL'}</span><br><span class="kind">${escapeHtml(d.status)}</span></td>
<td>${identity}</td>
<td>${escapeHtml(d.detail)}${!d.ok && d.advice ? `<div class="advice">${bi('What to do', '处理建议')}: ${escapeHtml(d.advice)}</div>` : ''}</td></tr>`;
}
