/**
 * The commissioning report is HTML built from what devices say about themselves: every
 * string a device (or the compound file) supplies is escaped, only real base64 images are
 * embedded, and the box serial comes from the board before the machine id.
 */
import { describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { boxSerial, escapeHtml, renderReport } from '../../gateway/probe/report.js';
import type { ProbeRun } from '../../gateway/probe/run-probes.js';

const HOSTILE = '<img src=x onerror="alert(1)">';
const config = CompoundConfig.parse({ compound: { id: 'c', name: `Court ${HOSTILE}` }, gateway: { id: 'g' } });

function run(): ProbeRun {
  return {
    via: 'direct',
    families: [
      {
        family: 'cameras',
        results: [
          {
            id: 'cam-1',
            kind: 'camera',
            ok: true,
            status: 'online',
            detail: `model ${HOSTILE}`,
            identity: { model: HOSTILE, [`x${HOSTILE}`]: 'firmware' },
            snapshot: { mime: 'image/jpeg', base64: Buffer.from('jpeg bytes').toString('base64') },
            warnings: [`clock ${HOSTILE}`],
          },
          {
            id: 'cam-2',
            kind: 'camera',
            ok: false,
            status: 'REFUSED',
            detail: 'password refused',
            advice: `check ${HOSTILE}`,
            // Not base64: a probe handing over anything else never reaches a data: URI.
            snapshot: { mime: 'image/jpeg', base64: '"><script>alert(1)</script>' },
          },
          {
            id: 'cam-3',
            kind: 'camera',
            ok: true,
            status: 'online',
            detail: 'fine',
            snapshot: { mime: 'text/html', base64: Buffer.from('<b>x</b>').toString('base64') },
          },
        ],
      },
    ],
  };
}

describe('commissioning report', () => {
  it('escapes every string from devices and the compound file, and embeds only base64 images', () => {
    const html = renderReport({
      config,
      run: run(),
      at: new Date('2026-12-03T10:00:00Z'),
      installer: `Li ${HOSTILE}`,
      box: { serial: `SN${HOSTILE}`, source: 'device tree' },
      warnings: [`config ${HOSTILE}`],
    });
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<script|onerror="/);
    expect(html.split(escapeHtml(HOSTILE)).length - 1).toBe(11); // title, h1, compound, installer, box, detail, identity key and value, advice, two warnings
    expect(html.match(/<img /g)).toHaveLength(1);
    expect(html).toContain(`src="data:image/jpeg;base64,${Buffer.from('jpeg bytes').toString('base64')}"`);
    expect(html).toContain('3 device(s) checked: 2 OK, 1 FAIL');
    expect(html).toContain('@page { size: A4;');
    expect(html).toContain('2026-12-03 10:00:00 UTC');
  });

  it('takes the box serial from the device tree, then DMI, then the machine id', () => {
    const files: Record<string, string> = { '/etc/machine-id': 'abc123', '/sys/class/dmi/id/product_serial': 'DMI-9' };
    expect(boxSerial((p) => files[p])).toEqual({ serial: 'DMI-9', source: 'DMI' });
    files['/proc/device-tree/serial-number'] = '10000000deadbeef';
    expect(boxSerial((p) => files[p])).toEqual({ serial: '10000000deadbeef', source: 'device tree' });
    expect(boxSerial(() => undefined)).toEqual({ serial: 'unknown', source: 'none readable' });
  });
});
