/**
 * tests/helpers/xsd-compare.py is how the hand-written ONVIF and WS-* schemas under
 * tests/fixtures/onvif-schemas are compared with the official ones (docs/ONVIF-SCHEMAS.md).
 * The official files cannot be in the repository, so these tests run it on copies of the
 * fixtures: it must find a changed content model and a missing declaration, and must not
 * count annotations or the order of attributes as a difference.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TOOL = join(ROOT, 'tests/helpers/xsd-compare.py');
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
