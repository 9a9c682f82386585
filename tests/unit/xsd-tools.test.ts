/**
 * tests/helpers/xsd-compare.py and xsd-mutate.py are how the hand-written ONVIF and WS-*
 * schemas under tests/fixtures/onvif-schemas are compared with the official ones
 * (docs/ONVIF-SCHEMAS.md). The official files cannot be in the repository, so these tests run
 * them on altered copies of the fixtures: each must find the one difference put in, and
 * xsd-compare must not count annotations or the order of attributes as a difference.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TOOL = join(ROOT, 'tests/helpers/xsd-compare.py');
const MUTATE = join(ROOT, 'tests/helpers/xsd-mutate.py');
const XMLLINT = process.env.GATEHOUSE_XMLLINT ?? '/usr/bin/xmllint';
const FIXTURES = join(ROOT, 'tests/fixtures/onvif-schemas');
const PYTHON = process.env.GATEHOUSE_PYTHON ?? '/usr/bin/python3';

function compare(mine: string, official: string): { status: number | null; out: string } {
  const r = spawnSync(PYTHON, [TOOL, mine, official], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A copy of the fixtures with one file edited; the edit must apply exactly once. */
function copyWith(file: string, from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-xsd-compare-'));
  dirs.push(dir);
  cpSync(FIXTURES, dir, { recursive: true });
  const text = readFileSync(join(dir, file), 'utf8');
  expect(text.split(from).length - 1, `${file}: ${from}`).toBe(1);
  writeFileSync(join(dir, file), text.replace(from, to));
  return dir;
}

const dirs: string[] = [];

describe('xsd-compare: the check of the reconstructed schemas against the official ones', () => {
  beforeAll(() => {
    const r = spawnSync(PYTHON, ['--version']);
    if (r.error || r.status !== 0) {
      throw new Error(`${PYTHON} is required to run tests/helpers/xsd-compare.py: install python3 (.ci/run does), or set GATEHOUSE_PYTHON`);
    }
  });
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('finds every component identical when both sides are the same files', () => {
    const r = compare(FIXTURES, FIXTURES);
    expect(r.status, r.out).toBe(0);
    const [, same, all] = /(\d+) of (\d+) components identical/.exec(r.out)!;
    expect(Number(same)).toBe(Number(all));
    expect(Number(all)).toBeGreaterThan(200);
  });

  it('reports a changed occurrence as a difference of that one type, and fails', () => {
    const official = copyWith(
      'onvif-types-unsent.xsd',
      '<xs:element name="RuleSupport" type="xs:boolean"/>',
      '<xs:element name="RuleSupport" type="xs:boolean" minOccurs="0"/>',
    );
    const r = compare(FIXTURES, official);
    expect(r.status).toBe(1);
    const reported = r.out.split('\n').filter((l) => /^(DIFFERS|NOT IN OFFICIAL)/.test(l));
    expect(reported).toEqual([
      'DIFFERS  complexType {http://www.onvif.org/ver10/schema}AnalyticsCapabilities  (onvif-types-unsent.xsd vs onvif-types-unsent.xsd)',
    ]);
  });

  it('reports a declaration the official files do not have', () => {
    const official = copyWith('ptz-types.xsd', '<xs:element name="GotoPresetResponse">', '<xs:element name="GotoPresetAnswer">');
    const r = compare(FIXTURES, official);
    expect(r.status).toBe(1);
    expect(r.out).toContain('NOT IN OFFICIAL  element {http://www.onvif.org/ver20/ptz/wsdl}GotoPresetResponse  (ptz-types.xsd)');
  });

  it('does not count annotations or the order of attributes', () => {
    const official = copyWith(
      'onvif-types-unsent.xsd',
      '<xs:complexType name="Rectangle">\n\t\t<xs:attribute name="bottom" type="xs:float"/>\n\t\t<xs:attribute name="top" type="xs:float"/>',
      '<xs:complexType name="Rectangle">\n\t\t<xs:annotation><xs:documentation>Rectangle.</xs:documentation></xs:annotation>\n\t\t<xs:attribute name="top" type="xs:float"/>\n\t\t<xs:attribute name="bottom" type="xs:float"/>',
    );
    const r = compare(FIXTURES, official);
    expect(r.status, r.out).toBe(0);
  });
});

describe('xsd-mutate: two schema sets judged on altered answers', () => {
  const answer =
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>' +
    '<tds:GetDeviceInformationResponse><tds:Manufacturer>Gatehouse</tds:Manufacturer><tds:Model>SimCam</tds:Model>' +
    '<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>1</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>' +
    '</tds:GetDeviceInformationResponse></s:Body></s:Envelope>';
  let answers: string;

  beforeAll(() => {
    for (const [bin, what] of [
      [PYTHON, 'python3'],
      [XMLLINT, 'libxml2-utils'],
    ] as const) {
      const r = spawnSync(bin, ['--version']);
      if (r.error || r.status !== 0) throw new Error(`${bin} is required by tests/helpers/xsd-mutate.py: install ${what} (.ci/run does)`);
    }
    answers = mkdtempSync(join(tmpdir(), 'gh-xsd-mutate-answers-'));
    writeFileSync(join(answers, 'GetDeviceInformation.xml'), answer);
  });
  afterAll(() => {
    if (answers) rmSync(answers, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const mutate = (a: string, b: string) => {
    const r = spawnSync(PYTHON, [MUTATE, '--a', join(a, 'all.xsd'), '--b', join(b, 'all.xsd'), answers], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { status: r.status, out: r.stdout + r.stderr };
  };

  it('finds no difference between a schema set and itself', () => {
    const r = mutate(FIXTURES, FIXTURES);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/\d+ alterations of 1 answers: 0 differ, [1-9]\d* accepted by both, [1-9]\d* refused by both/);
  });

  it('finds the one alteration judged differently when one set makes an element optional', () => {
    const optional = copyWith(
      'devicemgmt-types.xsd',
      '<xs:element name="HardwareId" type="xs:string"/>',
      '<xs:element name="HardwareId" type="xs:string" minOccurs="0"/>',
    );
    const r = mutate(optional, FIXTURES);
    expect(r.status).toBe(1);
    expect(r.out.split('\n').filter((l) => l.startsWith('DIFFER'))).toEqual([
      'DIFFER  GetDeviceInformation.xml  s:Envelope/s:Body/tds:GetDeviceInformationResponse/tds:HardwareId delete: A accepts, B refuses',
    ]);
  });
});
