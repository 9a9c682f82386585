/**
 * The scan progress display of `discover --modbus` / `--osdp`: a bar redrawn in place with
 * the time left on a terminal, plain lines (each tenth, each find) elsewhere. Pure logic on
 * a ManualClock; the CLI tests cover the plain lines through real scans.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { ScanProgress, formatSeconds } from '../../gateway/install/progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { out: { isTTY, columns: 120, write: (t: string) => chunks.push(t) }, chunks };
}

describe('ScanProgress', () => {
  it('on a terminal redraws one bar with the time left from the pace so far', () => {
    const clock = new ManualClock();
    const { out, chunks } = sink(true);
    const p = new ScanProgress({ total: 10, items: 'unit ids', out, clock });
    clock.advance(100);
    p.step('unit 1');
    expect(chunks.at(-1)).toBe('\r\x1b[2K[##......................] 1/10 unit 1 · 0 found · ~1 s left');
    clock.advance(1900);
    p.step('unit 2', 'unit 2: a cabinet');
    // The find stays as a line of its own; the bar is drawn again below it: 2 s for 2 ids → 8 s for 8.
    expect(chunks.join('')).toContain('found: unit 2: a cabinet\n');
    expect(chunks.at(-1)).toBe('\r\x1b[2K[#####...................] 2/10 unit 2 · 1 found · ~8 s left');
    expect(chunks.join('')).not.toMatch(/scanned/);
    p.end();
    expect(chunks.at(-1)).toBe('\r\x1b[2K');
  });

  it('elsewhere writes plain lines: one per tenth and one per find, never a carriage return', () => {
    const clock = new ManualClock();
    const { out, chunks } = sink(false);
    const p = new ScanProgress({ total: 20, items: 'addresses', out, clock });
    for (let i = 1; i <= 20; i++) {
      clock.advance(50);
      p.step(`address ${i}`, i === 7 ? 'address 7: a reader' : undefined);
    }
    p.end();
    const text = chunks.join('');
    expect(text).not.toContain('\r');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('scanned 2/20 addresses (10%), 0 found, about 1 s left');
    expect(lines).toContain('found: address 7: a reader');
    expect(lines.at(-1)).toBe('scanned 20/20 addresses (100%), 1 found');
  });

  it('says minutes for long scans', () => {
    expect(formatSeconds(42)).toBe('42 s');
    expect(formatSeconds(125)).toBe('2 min 5 s');
  });
});
