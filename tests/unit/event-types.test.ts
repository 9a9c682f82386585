/**
 * Typed events. The type-level half is checked by `tsc` (npm run build compiles tests/):
 * every `@ts-expect-error` below must meet an error, so if `record()` stopped checking
 * `data` against its type's zod schema, the build would fail on an unused directive.
 * The run-time half checks each declaration's own examples against its zod schema.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { EventDataMap, EventInput, EventType } from '../../gateway/core/events.js';
import { withUncheckedData } from '../../gateway/core/events.js';
import { declaredEvents } from '../../gateway/events/asyncapi-gen.js';
import { ALARM_EVENTS } from '../../gateway/alarms/event-schemas.js';
import { PRESENCE_EVENTS } from '../../gateway/presence/event-schemas.js';
import { COMMAND_EVENTS } from '../../gateway/commands/event-schemas.js';
import { OUTBOX_EVENTS } from '../../gateway/outbox/event-schemas.js';
import { SYSTEM_EVENTS } from '../../gateway/events/system-events.js';
import { CONSOLE_EVENTS } from '../../gateway/console/event-schemas.js';
import { LOCK_EVENTS } from '../../gateway/locks/event-schemas.js';
import { ACCESS_EVENTS } from '../../gateway/access/event-schemas.js';
import { CHARGING_EVENTS } from '../../gateway/charging/event-schemas.js';
import { CAMERA_EVENTS } from '../../gateway/cameras/event-schemas.js';
import { PERIMETER_EVENTS } from '../../gateway/perimeter/event-schemas.js';
import { REMOTE_CONFIG_EVENTS } from '../../gateway/remote-config/event-schemas.js';
import { UPLINK_EVENTS } from '../../gateway/uplink/event-schemas.js';
import { SWAP_EVENTS } from '../../gateway/swap/event-schemas.js';

/**
 * The lists and the EventDataMap augmentations must name the same types, else record() and
 * the document disagree: a family that augments the map must list the type in its manifest's
 * events() (the run-time test below checks the manifests hand out exactly these lists).
 */
const EVENT_LISTS = [
  ALARM_EVENTS,
  PRESENCE_EVENTS,
  COMMAND_EVENTS,
  OUTBOX_EVENTS,
  SYSTEM_EVENTS,
  CONSOLE_EVENTS,
  LOCK_EVENTS,
  ACCESS_EVENTS,
  CHARGING_EVENTS,
  CAMERA_EVENTS,
  PERIMETER_EVENTS,
  REMOTE_CONFIG_EVENTS,
  UPLINK_EVENTS,
  SWAP_EVENTS,
] as const;
type Declared = (typeof EVENT_LISTS)[number][number]['type'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const listsMatchTheMap: Same<Declared, EventType> = true;
void listsMatchTheMap;
const ALL_EVENTS = await declaredEvents();

/** What the outbox's `record()` accepts. */
const accept = (e: EventInput): EventInput => e;

// Well-typed events compile.
accept({ class: 'alarm', type: 'lock.tamper', source: { device: 'flat-1' }, data: { lock: 'flat-1', active: true } });
accept({ class: 'device', type: 'device.offline', source: { device: 'gate-cam' }, data: { family: 'camera', reason: 'unreachable' } });
accept({
  class: 'access',
  type: 'access.granted',
  source: { device: 'flat-1' },
  data: { lock: 'flat-1', method: 'card', credential: '****5678', by: 'lock' },
});

// @ts-expect-error a field the lock.tamper schema does not have
accept({ class: 'alarm', type: 'lock.tamper', source: { device: 'flat-1' }, data: { lock: 'flat-1', active: true, level: 3 } });
// @ts-expect-error a required field missing (active)
accept({ class: 'alarm', type: 'lock.tamper', source: { device: 'flat-1' }, data: { lock: 'flat-1' } });
// @ts-expect-error a wrong field type (level is an integer)
accept({ class: 'device', type: 'lock.battery_low', source: { device: 'flat-1' }, data: { lock: 'flat-1', level: 'low' } });
// @ts-expect-error a value outside the enum (family)
accept({ class: 'device', type: 'device.offline', source: { device: 'x' }, data: { family: 'toaster' } });
// @ts-expect-error a type nobody declares
accept({ class: 'system', type: 'gateway.exploded', source: { device: 'gateway' }, data: {} });
// @ts-expect-error the data of another type: the literal type picks the schema
accept({ class: 'device', type: 'lock.battery_low', source: { device: 'flat-1' }, data: { lock: 'flat-1', active: true } });
const doorGrant = { door: 'g', reader: 'r', direction: 'in', method: 'card', credential: '****', offline: false } as const;
accept({ class: 'access', type: 'access.granted', source: { device: 'g' }, data: { ...doorGrant, by: 'gateway' } });
// @ts-expect-error a door-form grant must say by: 'gateway'
accept({ class: 'access', type: 'access.granted', source: { device: 'g' }, data: { ...doorGrant, by: 'lock' } });
// @ts-expect-error withUncheckedData still wants a declared type
withUncheckedData({ class: 'system', type: 'gateway.exploded', source: { device: 'gateway' }, data: {} });

describe('typed events', () => {
  it('the map is built from the schemas (and gateway/events/asyncapi-gen.ts checks it names exactly the listed types)', () => {
    expectTypeOf<'lock.tamper'>().toMatchTypeOf<EventType>();
    expectTypeOf<EventDataMap['lock.battery_low']>().toEqualTypeOf<{ lock: string; level: number }>();
    expectTypeOf<EventDataMap['outbox.evicted']['reason']>().toEqualTypeOf<'disk-cap' | 'disk-full' | 'ttl'>();
    expect(new Set(ALL_EVENTS.map((e) => e.type)).size).toBe(ALL_EVENTS.length);
    // What the core and the registered manifests hand out is exactly the lists checked above.
    expect(ALL_EVENTS.map((e) => e.type).sort()).toEqual(EVENT_LISTS.flatMap((l) => l.map((e) => e.type)).sort());
  });

  it("every declaration's examples parse with its own data schema, and a broken one does not", () => {
    let checked = 0;
    for (const e of ALL_EVENTS) {
      for (const ex of e.examples ?? []) {
        const r = e.data.safeParse(ex.payload.data);
        expect(r.success, `${e.type} example ${ex.name}: ${r.error?.message ?? ''}`).toBe(true);
        expect(ex.payload.type, `${e.type} example ${ex.name}`).toBe(e.type);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
    const tamper = ALL_EVENTS.find((e) => e.type === 'lock.tamper')!;
    expect(tamper.data.safeParse({ lock: 'flat-1', active: 'yes' }).success).toBe(false);
    expect(tamper.data.safeParse({ lock: 'flat-1', active: true, extra: 1 }).success).toBe(false);
  });

  it("zod's parse keeps the document's conditional rules (if/then/else), which the JSON Schema carries as such", () => {
    const data = (type: string) => ALL_EVENTS.find((e) => e.type === type)!.data;
    const caller = { via: 'uplink', role: 'platform', principal: 'platform' };
    const executed = { command: 'lock.open', id: 'c', caller, durationMs: 3 };
    expect(data('command.executed').safeParse({ ...executed, ok: true }).success).toBe(true);
    expect(data('command.executed').safeParse({ ...executed, ok: false }).success).toBe(false);
    expect(data('command.executed').safeParse({ ...executed, ok: true, error: 'CMD_FAILED' }).success).toBe(false);
    expect(data('command.executed').safeParse({ ...executed, ok: false, error: 'CMD_FAILED' }).success).toBe(true);
    expect(data('console.login').safeParse({ user: 'g', ok: false, address: '::1' }).success).toBe(false);
    expect(data('console.login').safeParse({ user: 'g', ok: true, address: '::1' }).success).toBe(true);
    expect(data('device.online').safeParse({ family: 'reader' }).success).toBe(false);
    expect(data('device.online').safeParse({ family: 'reader', secure: true }).success).toBe(true);
    expect(data('device.online').safeParse({ family: 'lock', secure: true }).success).toBe(false);
    expect(data('device.online').safeParse({ family: 'lock' }).success).toBe(true);
    expect(data('device.offline').safeParse({ family: 'reader' }).success).toBe(false);
    expect(data('device.offline').safeParse({ family: 'camera' }).success).toBe(true);
  });
});
