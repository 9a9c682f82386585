/**
 * Inputs the coverage-guided fuzzer (tests/fuzz/) found to break a codec, each reduced to the
 * smallest case that shows the bug. Each test failed before its fix.
 */
import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseContent, parseTimestamp } from '../../drivers/dc09/frame.js';

describe('fuzz regressions', () => {
  it('DC-09: a timestamp with a year below 100 is that year, not 1900+ (dc09-message, round trip)', () => {
    // Date.UTC read 0020 as 1920; and formatTimestamp wrote year 820 as "820", which does not parse.
    expect(new Date(parseTimestamp('_08:40:47,07-02-0020')!).getUTCFullYear()).toBe(20);
    const t = parseTimestamp('_08:40:47,07-02-0820')!;
    expect(formatTimestamp(t)).toBe('_08:40:47,07-02-0820');
    expect(parseContent(`#1234|Nri1/BA001]${formatTimestamp(t)}`)).toMatchObject({ ok: true, value: { timestamp: t } });
    expect(parseTimestamp('_08:40:47,02-30-2024')).toBeUndefined();
    expect(formatTimestamp(Date.UTC(2025, 8, 24, 16, 20, 1))).toBe('_16:20:01,09-24-2025');
  });
});
