/**
 * Inputs the coverage-guided fuzzer (tests/fuzz/) found to break a codec, each reduced to the
 * smallest case that shows the bug. Each test failed before its fix.
 */
import { describe, expect, it } from 'vitest';
import { dc09CrcHex } from '../../drivers/dc09/crc.js';
import { formatTimestamp, parseContent, parseFrame, parseTimestamp } from '../../drivers/dc09/frame.js';
import { encodeMessage } from '../../drivers/dc09/message.js';

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

describe('fuzz regressions: DC-09 header', () => {
  const body = (h: string) => `${h}[#1234|Nri1/OP1]`;
  const withCrc = (b: string) => `\n${dc09CrcHex(b)}${b.length.toString(16).toUpperCase().padStart(4, '0')}${b}\r`;

  it('`L0A0` outside a NAK is line 0A0, not line 0 + account 0 (dc09-message, round trip)', () => {
    // It was read as account "0", which encodeMessage writes as `#0`: not a valid account, so
    // the re-encoded message did not parse.
    const f = parseFrame(withCrc(body('"SIA-DCS"1002L0a0')));
    expect(f).toMatchObject({ ok: true, value: { line: '0A0' } });
    expect(f.ok && f.value.account).toBeUndefined();
    const again = parseFrame(encodeMessage(f.ok ? f.value : ({} as never), { data: '#1234|Nri1/OP1', extended: [] }));
    expect(again).toMatchObject({ ok: true, value: { line: '0A0', token: 'SIA-DCS', seq: '1002' } });
    // The NAK keeps its fixed L0A0 = line 0, account 0.
    expect(parseFrame(withCrc('"NAK"0000R0L0A0[]_16:20:01,09-24-2025'))).toMatchObject({ ok: true, value: { line: '0', account: '0' } });
  });
});
