/**
 * How cabinet readings, safety actions and charging sessions become platform events and
 * retained state (docs/asyncapi.yaml, evt/alarm, evt/charging, evt/device, state/{device}).
 * Kept apart from the service so the mapping is one readable table, like the locks'.
 */
import type { CabinetReading } from '../../drivers/cabinet/types.js';
import type { EventDataMap, EventInput } from '../core/events.js';
import type { CabinetCutReason, SafetyAction, SafetyAlarmKind } from './safety.js';
import type { ChargingSession, MeterValue, StoppedSession } from './sessions.js';

const ALARM_TYPE: Record<
  SafetyAlarmKind,
  'charging.fire' | 'charging.port_over_temperature' | 'charging.port_over_current' | 'charging.port_fault' | 'cabinet.unsupervised'
> = {
  fire: 'charging.fire',
  port_over_temperature: 'charging.port_over_temperature',
  port_over_current: 'charging.port_over_current',
  port_fault: 'charging.port_fault',
  unsupervised: 'cabinet.unsupervised',
};

const portSource = (cabinet: string, port: number | undefined) =>
  port === undefined ? { device: cabinet } : { device: cabinet, point: `port-${port}` };
const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The event of an informing safety action (alarms, mains), or undefined for the power actions. */
export function safetyEvent(cabinet: string, a: SafetyAction): EventInput | undefined {
  switch (a.kind) {
    case 'raiseAlarm':
      return {
        class: 'alarm',
        type: ALARM_TYPE[a.alarm],
        source: portSource(cabinet, a.port),
        // A cause is only set on charging.fire (smoke or over_temperature; safety.ts).
        data: {
          cabinet,
          active: true,
          priority: a.priority,
          ...(a.port !== undefined ? { port: a.port } : {}),
          ...(a.cause ? { cause: a.cause as Exclude<CabinetCutReason, 'unsupervised'> } : {}),
          ...(a.value !== undefined ? { value: round(a.value, 2) } : {}),
        },
      };
    case 'restoreAlarm':
      return {
        class: 'alarm',
        type: ALARM_TYPE[a.alarm],
        source: portSource(cabinet, a.port),
        data: {
          cabinet,
          active: false,
          priority: a.alarm === 'fire' ? 'critical' : 'high',
          ...(a.port !== undefined ? { port: a.port } : {}),
          ...(a.value !== undefined ? { value: round(a.value, 2) } : {}),
        },
      };
    case 'mainsLost':
      return { class: 'charging', type: 'charging.mains_lost', source: { device: cabinet }, data: { cabinet, voltage: round(a.voltage) } };
    case 'mainsRestored':
      return {
        class: 'charging',
        type: 'charging.mains_restored',
        source: { device: cabinet },
        data: { cabinet, voltage: round(a.voltage) },
      };
    default:
      return undefined;
  }
}

export function sessionStartedEvent(s: ChargingSession): EventInput {
  return {
    class: 'charging',
    type: 'charging.session_started',
    source: portSource(s.cabinet, s.port),
    data: {
      cabinet: s.cabinet,
      port: s.port,
      sessionId: s.sessionId,
      meterStartWh: s.meterStartWh,
      startedBy: s.startedBy === 'local' ? 'local' : s.startedBy.via,
      ...(s.startedBy !== 'local' ? { principal: s.startedBy.principal } : {}),
      ...(s.powerLimitW !== null ? { powerLimitW: s.powerLimitW } : {}),
      ...(s.maxDurationMin !== null ? { maxDurationMin: s.maxDurationMin } : {}),
    },
  };
}

/** One per port per sample, the commonest event: built without a spread or a helper object per field. */
export function meterEvent(m: MeterValue): EventInput {
  const data: EventDataMap['charging.meter'] = {
    cabinet: m.cabinet,
    port: m.port,
    sessionId: m.sessionId,
    meterWh: m.meterWh,
    energyWh: m.energyWh,
    durationS: m.durationS,
  };
  // In this order: the serialised envelope keeps the field order it always had.
  if (m.powerW !== undefined) data.powerW = round(m.powerW, 0);
  if (m.currentA !== undefined) data.currentA = round(m.currentA, 2);
  if (m.voltageV !== undefined) data.voltageV = round(m.voltageV);
  if (m.temperatureC !== undefined) data.temperatureC = round(m.temperatureC);
  return { class: 'charging', type: 'charging.meter', source: portSource(m.cabinet, m.port), data };
}

export function sessionStoppedEvent(s: StoppedSession): EventInput {
  return {
    class: 'charging',
    type: 'charging.session_stopped',
    source: portSource(s.cabinet, s.port),
    data: {
      cabinet: s.cabinet,
      port: s.port,
      sessionId: s.sessionId,
      meterStartWh: s.meterStartWh,
      meterStopWh: s.meterStopWh,
      energyWh: s.energyWh,
      durationS: s.durationS,
      reason: s.stopReason,
    },
  };
}

export function presenceEvent(cabinet: string, online: boolean, reason?: string): EventInput {
  return online
    ? { class: 'device', type: 'device.online', source: { device: cabinet }, data: { family: 'cabinet' } }
    : { class: 'device', type: 'device.offline', source: { device: cabinet }, data: { family: 'cabinet', reason: reason ?? 'no_answer' } };
}

/**
 * The retained `state/{cabinet}` body. `ports` is a summary: what a dashboard shows per port,
 * with the live power and current of the last reading (the meter events' values). A field the
 * cabinet sent undecodable is null, never a guess.
 */
export function cabinetState(
  online: boolean,
  reading: CabinetReading | undefined,
  latched: string | null,
  sessions: ReadonlyMap<number, number>,
  lastSeen: number | null,
  unsupervised = false,
): Record<string, unknown> {
  const bad = new Set((reading?.faults ?? []).map((f) => f.field));
  const known = <T>(field: string, v: T): T | null => (bad.has(field) ? null : v);
  return {
    online,
    latched,
    unsupervised,
    status: reading
      ? {
          mainsPresent: known('mainsPresent', reading.status.mainsPresent),
          mainsVoltage: round(reading.status.mainsVoltage),
          temperature: known('temperature', round(reading.status.temperature)),
          smoke: known('smoke', reading.status.smoke),
          doorOpen: reading.status.doorOpen,
          powerOn: reading.status.powerOn,
        }
      : null,
    ports: (reading?.ports ?? []).map((p) => ({
      port: p.port,
      state: p.state,
      powerW: Math.round(p.power),
      currentA: round(p.current, 2),
      sessionId: sessions.get(p.port) ?? null,
    })),
    lastSeen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
  };
}

/** What of the state changes often enough not to be worth a retained write on its own (power, temperatures). */
export function stateKey(body: Record<string, unknown>): string {
  const st = body.status as Record<string, unknown> | null;
  const ports = (body.ports as { port: number; state: string; sessionId: number | null }[]).map((p) => [p.port, p.state, p.sessionId]);
  return JSON.stringify([
    body.online,
    body.latched,
    body.unsupervised,
    st ? [st.mainsPresent, st.smoke, st.doorOpen, st.powerOn] : null,
    ports,
  ]);
}

/**
 * What stateKey() and the live values (power, current, voltages, temperatures) of the body
 * cabinetState() would build, as two strings made straight from the reading: the unit checks
 * them on every poll, and building the body and its key for each poll cost more than the
 * rest of the state handling (issue 18). `coarse` changes exactly when stateKey() does.
 */
export function stateFingerprints(
  online: boolean,
  reading: CabinetReading | undefined,
  latched: string | null,
  sessionAt: (port: number) => number | undefined,
  unsupervised: boolean,
): { coarse: string; live: string } {
  let coarse = `${online ? 1 : 0}|${latched === null ? '-' : `"${latched}"`}|${unsupervised ? 1 : 0}`;
  if (!reading) return { coarse: `${coarse}|-`, live: '' };
  const faults = reading.faults;
  const bad = (field: string) => faults !== undefined && faults.some((f) => f.field === field);
  const flag = (field: string | null, v: boolean) => (field !== null && bad(field) ? 'n' : v ? '1' : '0');
  const st = reading.status;
  coarse += `|${flag('mainsPresent', st.mainsPresent)}${flag('smoke', st.smoke)}${flag(null, st.doorOpen)}${flag(null, st.powerOn)}`;
  let live = `${round(st.mainsVoltage)}|${bad('temperature') ? 'n' : round(st.temperature)}`;
  for (const p of reading.ports) {
    coarse += `|${p.port}:${p.state}:${sessionAt(p.port) ?? '-'}`;
    live += `|${Math.round(p.power)}:${round(p.current, 2)}`;
  }
  return { coarse, live };
}
