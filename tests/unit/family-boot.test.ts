/**
 * The family registry's boot rules (gateway/families/boot.ts): start order from needs and
 * provides, refusal of a missing provider or a cycle, capabilities handed out only when
 * declared, one device-id space across families, and secrets resolved by the manifests.
 */
import { describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { checkDeviceIds, familyContext, orderFamilies, secretsOf } from '../../gateway/families/boot.js';
import type { Capability, FamilyManifest } from '../../gateway/families/family.js';
import { FAMILIES } from '../../gateway/families/registry.js';
import { isGatehouseError } from '../../gateway/core/errors.js';

const fam = (name: string, needs: Capability[] = [], provides: Capability[] = []) => ({ name, needs, provides });
const names = (list: { name: string }[]) => list.map((f) => f.name);
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isGatehouseError(err) ? err.code : `not coded: ${(err as Error).message}`;
  }
  return undefined;
};
const base = { compound: { id: 'c' }, gateway: { id: 'g' } };

describe('family start order', () => {
  it('starts a provider before the families that need it, and keeps the registry order otherwise', () => {
    const list = [
      fam('sirens', ['outputs']),
      fam('locks', ['broker']),
      fam('perimeter', ['alarms'], ['outputs']),
      fam('snaps', ['camera-linkage']),
      fam('cameras', [], ['camera-linkage']),
    ];
    expect(names(orderFamilies(list, ['alarms', 'broker']))).toEqual(['locks', 'perimeter', 'sirens', 'cameras', 'snaps']);
    // Deterministic: the same list gives the same order every time.
    expect(names(orderFamilies(list, ['alarms', 'broker']))).toEqual(names(orderFamilies(list, ['alarms', 'broker'])));
  });

  it('refuses a need nobody provides, with a coded error naming the family', () => {
    expect(codeOf(() => orderFamilies([fam('sirens', ['outputs'])], ['alarms']))).toBe('FAMILY_NEEDS_MISSING');
    expect(() => orderFamilies([fam('sirens', ['outputs'])], ['alarms'])).toThrow(/family sirens needs "outputs"/);
    // The core's capabilities count as provided.
    expect(names(orderFamilies([fam('locks', ['broker'])], ['broker']))).toEqual(['locks']);
  });

  it('orders a family after the providers of what it wants, and starts it without one (issue 17: a swap cabinet reader)', () => {
    const swap = { name: 'swap', needs: ['alarms'] as Capability[], wants: ['door-grants'] as Capability[] };
    const access = fam('access', [], ['door-grants']);
    expect(names(orderFamilies([swap, access], ['alarms']))).toEqual(['access', 'swap']);
    expect(names(orderFamilies([swap], ['alarms']))).toEqual(['swap']);
    const wanting = familyContext({ ...swap, provides: [] } as unknown as FamilyManifest, { provided: new Map() } as never);
    expect(wanting.use('door-grants')).toBeUndefined();
    const grants = () => () => undefined;
    const served = familyContext({ ...swap } as unknown as FamilyManifest, { provided: new Map([['door-grants', grants]]) } as never);
    expect(served.use('door-grants')).toBe(grants);
  });

  it('refuses a cycle', () => {
    const cycle = [fam('a', ['outputs'], ['camera-linkage']), fam('b', ['camera-linkage'], ['outputs']), fam('c')];
    expect(codeOf(() => orderFamilies(cycle, []))).toBe('FAMILY_NEEDS_CYCLE');
    expect(() => orderFamilies(cycle, [])).toThrow(/families a, b need each other/);
  });

  it('orders the real registry with the core capabilities the composition root provides', () => {
    expect(names(orderFamilies(FAMILIES, ['alarms', 'presence', 'broker', 'media', 'uplink-status']))).toEqual([
      'locks',
      'access',
      'cameras',
      'perimeter',
      'dc09',
      'cabinets',
      'swap',
    ]);
  });

  it('hands a family only the capabilities its manifest declares', () => {
    const manifest = {
      ...fam('chimes', ['presence']),
      config: {},
      configured: () => true,
      devices: () => [],
      load: async () => ({ create: () => ({ start() {}, stop() {} }) }),
    } as FamilyManifest;
    const presence = { track: () => undefined };
    const ctx = familyContext(manifest, {
      provided: new Map<Capability, unknown>([
        ['presence', presence],
        ['broker', {}],
      ]),
    } as never);
    expect(ctx.use('presence')).toBe(presence);
    expect(codeOf(() => ctx.use('broker'))).toBe('FAMILY_CAPABILITY_UNDECLARED');
  });
});

describe('device ids across families', () => {
  it('reports an id claimed by two families at the later claim, naming the first', () => {
    const r = CompoundConfig.safeParse({
      ...base,
      locks: [{ id: 'gate' }],
      cameras: [{ id: 'gate', host: '10.0.0.9', username: 'viewer' }],
    });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(['cameras.0.id: duplicate device id "gate" (also locks[0])']);
  });

  it('refuses the reserved ids in every family', () => {
    const r = CompoundConfig.safeParse({
      ...base,
      locks: [{ id: 'gateway' }],
      cameras: [{ id: 'alarms', host: '10.0.0.9', username: 'viewer' }],
    });
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['locks.0.id', 'cameras.0.id']);
    expect(r.error!.issues[1]!.message).toBe('"alarms" is reserved (state/alarms is the gateway\'s own topic); choose another id');
  });

  it('is generic: any manifest list shares the one id space', () => {
    const a = { name: 'a', devices: () => [{ id: 'x', path: ['as', 0, 'id'] }] } as unknown as FamilyManifest<null>;
    const b = {
      name: 'b',
      devices: () => [
        { id: 'y', path: ['bs', 0, 'id'] },
        { id: 'x', path: ['bs', 1, 'id'] },
      ],
    } as unknown as FamilyManifest<null>;
    const issues: string[] = [];
    checkDeviceIds([a, b], null, (path, message) => issues.push(`${path.join('.')}: ${message}`));
    expect(issues).toEqual(['bs.1.id: duplicate device id "x" (also as[0])']);
  });
});

describe('secrets of the configured families', () => {
  it('resolves default and explicit names once, in the manifests', () => {
    const config = CompoundConfig.parse({
      ...base,
      locks: [{ id: 'flat-1' }, { id: 'flat-2', passwordSecret: 'vendor.flat-2' }],
      cameras: [{ id: 'cam-1', host: '10.0.0.9', username: 'viewer' }],
      osdpBuses: [{ id: 'bus', path: '/dev/ttyUSB0' }],
      readers: [
        { id: 'r-1', bus: 'bus', address: 1 },
        { id: 'r-2', bus: 'bus', address: 2, secure: 'off' },
      ],
      perimeter: { dc09: { tcpPort: 9000 } },
      alarmPanels: [
        { id: 'p1', account: '1234', keySecret: 'dc09.p1' },
        { id: 'p2', account: '1235' },
      ],
    });
    const refs = secretsOf(FAMILIES, config).map(
      (r) => `${r.what} ${r.kind ?? 'password'} ${r.name} ${r.required ? 'required' : 'optional'}`,
    );
    expect(refs).toEqual([
      'lock flat-1 password devices.flat-1 required',
      'lock flat-2 password vendor.flat-2 required',
      'reader r-1 key osdp.r-1 optional',
      'camera cam-1 password cameras.cam-1 required',
      'alarm panel p1 key dc09.p1 required',
    ]);
  });

  it('asks nothing of a family the compound file does not configure', () => {
    expect(secretsOf(FAMILIES, CompoundConfig.parse(base))).toEqual([]);
  });
});
