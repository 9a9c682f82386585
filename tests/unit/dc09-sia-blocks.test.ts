/**
 * SIA-DCS data blocks, extended data and Contact ID codes against published messages, not
 * against our encoder. Sources (copied verbatim):
 *  [dc09rs] fioletoven/dc09 common/src/dc09/message.tests.rs: `#1234|NRR|Atest` (the whole
 *           frame, CRC and length right) and `#1234|NRR|AStart`.
 *  [pysia]  eavanvalkenburg/pysiaalarm tests/test_sia_package_cases.py: case_xdata_M
 *           `[|Nri1/CL501][M0026B9E4268B]_14:12:04,09-25-2019`, case_xdata_K
 *           `[|Nri1/RP000][KAAAAAAAAAAAAAAAA]_14:12:04,09-25-2019` (their frames' length
 *           fields are wrong as published, so the content after the '[' is used), and the
 *           x-data identifier table of src/pysiaalarm/data/xdata.json.
 *  [issue]  the text message of issue 13: `#1234|AService visit`, `#1234|Nri1/BA01`.
 *  [vwww]   a public DC-09 sender script: `|9999|Nri1/BA01][Vwww.google.no]_12:10:07,12-13-2024`.
 * No published message with X/Y coordinates was found; those inputs are hand-written.
 */
import { describe, expect, it } from 'vitest';
import {
  CONTACT_ID_CODES,
  decodeContactId,
  decodePayload,
  openContent,
  parseContent,
  parseExtendedData,
  parseFrame,
} from '../../drivers/dc09/index.js';

const open = (msg: string) => {
  const f = parseFrame(msg);
  if (!f.ok) throw new Error(`${f.error}: ${f.detail}`);
  const c = openContent(f.value);
  if (!c.ok) throw new Error(`${c.error}: ${c.detail}`);
  return { frame: f.value, content: c.value };
};

describe('SIA-DCS data blocks', () => {
  it('[dc09rs] an event followed by an A text block: event RR with the text, not a second code', () => {
    const { frame, content } = open('\nF4D20029"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]\r');
    expect(decodePayload(frame.token, content.data)).toEqual({
      ok: true,
      value: [
        { protocol: 'SIA-DCS', kind: 'other', category: 'system', area: null, zone: null, code: 'RR', text: 'Power up', panelText: 'test' },
      ],
    });
    expect(decodePayload('SIA-DCS', '#1234|NRR|AStart')).toMatchObject({ ok: true, value: [{ code: 'RR', panelText: 'Start' }] });
  });

  it('[issue] a text-only message keeps its text and invents no code (was event code "AS")', () => {
    const r = decodePayload('SIA-DCS', '#1234|AService visit');
    expect(r).toEqual({
      ok: true,
      value: [
        {
          protocol: 'SIA-DCS',
          kind: 'other',
          category: 'other',
          area: null,
          zone: null,
          code: '',
          text: 'Service visit',
          panelText: 'Service visit',
        },
      ],
    });
    expect(decodePayload('SIA-DCS', '#1234|Nri1/BA01')).toMatchObject({
      ok: true,
      value: [{ kind: 'alarm', category: 'burglary', code: 'BA', area: 1, zone: 1 }],
    });
  });

  it('codes that start with A are still codes: AT (AC trouble) and AR (AC restoral)', () => {
    expect(decodePayload('SIA-DCS', '#1234|AT000')).toMatchObject({
      ok: true,
      value: [{ kind: 'trouble', category: 'ac', code: 'AT', zone: 0 }],
    });
    expect(decodePayload('SIA-DCS', '#1234|NAR|APower back')).toMatchObject({
      ok: true,
      value: [{ kind: 'restore', code: 'AR', panelText: 'Power back' }],
    });
  });

  it('several events in one message: per "/" part and per event block, the text on each', () => {
    const r = decodePayload('SIA-DCS', '#1234|Nri1/BA01/BA02|Nri2/TA05|AEntrance hall');
    expect(r.ok && r.value.map((e) => [e.code, e.area, e.zone, e.panelText])).toEqual([
      ['BA', 1, 1, 'Entrance hall'],
      ['BA', 1, 2, 'Entrance hall'],
      ['TA', 2, 5, 'Entrance hall'],
    ]);
  });

  it('[vwww] a block that is neither event nor text is kept as sent, the event still decoded', () => {
    const c = parseContent('|9999|Nri1/BA01][Vwww.google.no]_12:10:07,12-13-2024');
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(decodePayload('SIA-DCS', c.value.data)).toMatchObject({ ok: true, value: [{ code: 'BA', zone: 1, blocks: ['9999'] }] });
    // A verification value that is not an http(s) link is kept, but never offered as a link.
    expect(parseExtendedData(c.value.extended)).toEqual({ raw: ['Vwww.google.no'], verification: 'www.google.no' });
  });
});

describe('DC-09 extended data', () => {
  it('[pysia] M: the MAC address, with the closing report it came with', () => {
    const c = parseContent('|Nri1/CL501][M0026B9E4268B]_14:12:04,09-25-2019');
    expect(c).toMatchObject({
      ok: true,
      value: { data: '|Nri1/CL501', extended: ['M0026B9E4268B'], timestamp: Date.UTC(2019, 8, 25, 14, 12, 4) },
    });
    if (!c.ok) return;
    expect(parseExtendedData(c.value.extended)).toEqual({ raw: ['M0026B9E4268B'], mac: '0026B9E4268B' });
    expect(decodePayload('SIA-DCS', c.value.data)).toMatchObject({ ok: true, value: [{ kind: 'close', code: 'CL', user: 501, area: 1 }] });
  });

  it('[pysia] K: a key change is flagged and its key kept nowhere', () => {
    const c = parseContent('|Nri1/RP000][KAAAAAAAAAAAAAAAA]_14:12:04,09-25-2019');
    if (!c.ok) throw new Error(c.detail);
    const x = parseExtendedData(c.value.extended);
    expect(x).toEqual({ raw: ['K[redacted]'], keyChange: true });
    expect(JSON.stringify(x)).not.toContain('AAAAAAAA');
  });

  it('every identifier of the DC-09 list gets its named field; coordinates and time are parsed', () => {
    const x = parseExtendedData([
      'X8.5417E',
      'YN47.3769',
      'Z408',
      'Vhttps://nvr.example/clip/17?t=3',
      'IDoor forced',
      'H10:11:12,03-12-2026',
      'LGarage',
      'OBlock B',
      'RRoom 12',
      'SGreen Court',
      'Tz',
      'J2',
      'N192.168.1.20',
      'C2',
      'Aabcdef123456',
      'Pprog',
      'Qvendor',
    ]);
    expect(x).toEqual({
      raw: [
        'X8.5417E',
        'YN47.3769',
        'Z408',
        'Vhttps://nvr.example/clip/17?t=3',
        'IDoor forced',
        'H10:11:12,03-12-2026',
        'LGarage',
        'OBlock B',
        'RRoom 12',
        'SGreen Court',
        'Tz',
        'J2',
        'N192.168.1.20',
        'C2',
        'Aabcdef123456',
        'Pprog',
        'Qvendor',
      ],
      longitude: '8.5417E',
      longitudeDeg: 8.5417,
      latitude: 'N47.3769',
      latitudeDeg: 47.3769,
      altitude: '408',
      altitudeM: 408,
      verification: 'https://nvr.example/clip/17?t=3',
      verificationUrl: 'https://nvr.example/clip/17?t=3',
      alarmText: 'Door forced',
      occurredAt: '10:11:12,03-12-2026',
      occurredAtIso: '2026-03-12T10:11:12.000Z',
      location: 'Garage',
      buildingName: 'Block B',
      room: 'Room 12',
      siteName: 'Green Court',
      trigger: 'z',
      networkPath: '2',
      networkAddress: '192.168.1.20',
      supervisionCategory: '2',
      authenticationHash: 'abcdef123456',
      program: 'prog',
    });
    expect(parseExtendedData(['XW0.1278', 'YS33.8688'])).toMatchObject({ longitudeDeg: -0.1278, latitudeDeg: -33.8688 });
    expect(parseExtendedData(['X999', 'Ynorth'])).toEqual({ raw: ['X999', 'Ynorth'], longitude: '999', latitude: 'north' });
    expect(parseExtendedData(['Vjavascript:alert(1)'])).toEqual({ raw: ['Vjavascript:alert(1)'], verification: 'javascript:alert(1)' });
  });
});

describe('Contact ID table against SIA DC-05', () => {
  it.each([
    ['1116 01 004', 'alarm', 'fire', 'E116', 'Duct'],
    ['3116 01 004', 'restore', 'fire', 'R116', 'Duct'],
    ['1353 00 000', 'trouble', 'comm', 'E353', 'Long range radio transmitter fault'],
    ['3353 00 000', 'restore', 'comm', 'R353', 'Long range radio transmitter fault'],
    ['1118 01 002', 'alarm', 'fire', 'E118', 'Near alarm'],
    ['1162 01 009', 'alarm', 'gas', 'E162', 'Carbon monoxide detected'],
  ])('%s → %s/%s %s %s', (data, kind, category, code, text) => {
    expect(decodeContactId(`#1234|${data}`)).toMatchObject({ ok: true, value: [{ kind, category, code, text }] });
  });

  it('the codes issue 13 found unmapped are in the table', () => {
    expect(CONTACT_ID_CODES['116']).toBeDefined();
    expect(CONTACT_ID_CODES['353']).toBeDefined();
  });
});
