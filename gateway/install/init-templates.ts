/**
 * What `gatehouse init` writes for each family it knows: the commented part of the compound
 * file for the chosen devices, and per device what the installer sets on the device itself.
 * Keyed by the family's registry name; the secrets come from the family's own declaration
 * (`secretsOf`), never from here — a template only says whether an optional one is needed.
 */
import type { CompoundConfig } from '../../config/schema.js';
import { lockPasswordSecret } from '../../config/lock-schema.js';
import { readerKeySecret } from '../../config/access-schema.js';
import { cameraPasswordSecret } from '../../config/camera-schema.js';
import type { SecretRef } from '../families/family.js';
import type { Answers, DeviceAnswer } from './init-answers.js';

export interface Device {
  id: string;
  name?: string;
  host?: string;
  account?: string;
  address?: number;
  ports?: number;
  channels?: 8 | 16;
}

export interface TemplateContext {
  answers: Answers;
  /** The next free Modbus unit id on the shared RS-485 line (cabinets and input modules share it). */
  nextUnit(): number;
}

export interface FamilyTemplate {
  /** Device id prefix when only a count is given (`lock-1`, `lock-2`). */
  prefix: string;
  /** For the dialogue and errors. */
  what: string;
  yaml(devices: Device[], ctx: TemplateContext): string;
  /** Whether init generates an optional secret (default: every secret the family declares). */
  generates?(ref: SecretRef, config: CompoundConfig): boolean;
  /** Per device, what to set on the device itself (stdout only: it holds secrets). */
  instructions(config: CompoundConfig, secret: (name: string) => string | undefined): string[];
}

/** A YAML scalar that cannot be misread (JSON strings are YAML double-quoted scalars). */
const q = (s: string): string => JSON.stringify(s);
const nameOf = (d: Device): string => (d.name ? `, name: ${q(d.name)}` : '');
const MISSING = '(not generated: add it to the secrets file)';

export function devicesOf(prefix: string, answer: number | DeviceAnswer[]): Device[] {
  if (typeof answer === 'number') return Array.from({ length: answer }, (_, i) => ({ id: `${prefix}-${i + 1}` }));
  return answer.map((d) => (typeof d === 'string' ? { id: d } : d));
}

function rtuBus(a: Answers): string {
  return `{ rtu: { path: ${q(a.modbusPath)}, baudRate: ${a.modbusBaud} } }`;
}

export const TEMPLATES: Record<string, FamilyTemplate> = {
  locks: {
    prefix: 'lock',
    what: 'smart locks (MQTT, on the embedded broker)',
    yaml: (devices) =>
      [
        '# Smart locks log in to the embedded broker with their id as username and the password',
        '# from the secrets file (devices.<id>); `gatehouse init` printed what to set on each.',
        'locks:',
        ...devices.map((d) => `  - { id: ${d.id}${nameOf(d)} }`),
      ].join('\n'),
    instructions: (c, secret) =>
      c.locks.map(
        (l) =>
          `lock ${l.id}: MQTT broker ${c.broker.host}:${c.broker.port}, username ${l.id}, password ${secret(lockPasswordSecret(l)) ?? MISSING}`,
      ),
  },
  access: {
    prefix: 'reader',
    what: 'OSDP readers and their doors (RS-485)',
    yaml: (devices, { answers: a }) => {
      const secure = a.readerKeys === 'install' ? ', secure: install' : '';
      return [
        '# Access control: OSDP readers on one RS-485 line, one door per reader (edit the doors:',
        '# exit readers, contacts and exit buttons as wired). `gatehouse discover --osdp PATH` lists',
        a.readerKeys === 'install'
          ? '# the readers on the line. `secure: install`: the gateway sets each new reader its own key.'
          : '# the readers on the line. Reader keys (osdp.<reader>) are in the secrets file.',
        'osdpBuses:',
        `  - { id: rs485-osdp, path: ${q(a.osdpPath)}, baudRate: 115200 }`,
        'readers:',
        ...devices.map((d, i) => `  - { id: ${d.id}${nameOf(d)}, bus: rs485-osdp, address: ${d.address ?? i + 1}${secure} }`),
        'doors:',
        ...devices.map(
          (d) =>
            `  - { id: ${d.id}-door, entryReader: ${d.id}, lock: { reader: ${d.id}, index: 0 }, contact: { reader: ${d.id}, index: 0 } }`,
        ),
      ].join('\n');
    },
    // A reader installed with `secure: install` gets its key from the gateway (kept in the data directory).
    generates: (ref, c) => !c.readers.some((r) => readerKeySecret(r) === ref.name && r.secure === 'install'),
    instructions: (c, secret) => {
      const bus = new Map(c.osdpBuses.map((b) => [b.id, b]));
      return c.readers.map((r) => {
        const line = bus.get(r.bus);
        const where = `OSDP address ${r.address}, ${line?.baudRate ?? 115200} baud on ${line?.path ?? r.bus}`;
        if (r.secure === 'install') return `reader ${r.id}: ${where}; leave it in install mode (factory key): the gateway sets its own key`;
        if (r.secure === 'off') return `reader ${r.id}: ${where}; no secure channel`;
        return `reader ${r.id}: ${where}; secure channel key (SCBK) ${secret(readerKeySecret(r)) ?? MISSING}`;
      });
    },
  },
  cameras: {
    prefix: 'camera',
    what: 'ONVIF cameras',
    yaml: (devices) =>
      [
        "# ONVIF cameras: set each camera's address (`gatehouse discover --onvif` lists them); the",
        '# password is in the secrets file (cameras.<id>), set it on the camera for the user below.',
        'cameras:',
        ...devices.map((d, i) => `  - { id: ${d.id}${nameOf(d)}, host: ${q(d.host ?? `192.0.2.${10 + i}`)}, username: gatehouse }`),
      ].join('\n'),
    instructions: (c, secret) =>
      c.cameras.map(
        (cam) =>
          `camera ${cam.id}: at ${cam.host}:${cam.port}, create the ONVIF user ${cam.username} (operator: media, events, PTZ) with password ${secret(cameraPasswordSecret(cam)) ?? MISSING}`,
      ),
  },
  perimeter: {
    prefix: 'module',
    what: 'Modbus input modules (perimeter zones, sirens)',
    yaml: (devices, ctx) =>
      [
        '# Perimeter: Modbus digital-input modules on the RS-485 line (`gatehouse discover --modbus PATH`',
        '# lists them). Add one zone per wired channel and the partitions that are armed, e.g.:',
        '#   zones: [{ id: north-beam-1, module: <module>, channel: 0, partition: north }]',
        '#   partitions: [{ id: north, name: North wall }]',
        'inputModules:',
        ...devices.map(
          (d) =>
            `  - { id: ${d.id}${nameOf(d)}, bus: ${rtuBus(ctx.answers)}, unitId: ${d.address ?? ctx.nextUnit()}, channels: ${d.channels ?? 8} }`,
        ),
      ].join('\n'),
    instructions: (c) =>
      c.inputModules.map(
        (m) =>
          `input module ${m.id}: ${'rtu' in m.bus ? `Modbus unit id ${m.unitId}, ${m.bus.rtu.baudRate} baud 8N1 on ${m.bus.rtu.path}` : 'Modbus TCP'}`,
      ),
  },
  dc09: {
    prefix: 'panel',
    what: 'SIA DC-09 alarm panels',
    yaml: (devices, { answers: a }) =>
      [
        '# Intrusion panels reporting over SIA DC-09 to the receiver on this box (AES keys in the',
        '# secrets file as dc09.<panel>). The receiver listens on the LAN address the panels reach.',
        'perimeter:',
        `  dc09: { host: ${q(a.lan)}, tcpPort: 9000, udpPort: 9000 }`,
        'alarmPanels:',
        ...devices.map(
          (d, i) =>
            `  - { id: ${d.id}${nameOf(d)}, account: ${q(d.account ?? String(1001 + i))}, keySecret: dc09.${d.id}, supervisionS: 3600 }`,
        ),
      ].join('\n'),
    instructions: (c, secret) =>
      c.alarmPanels.map(
        (p) =>
          `alarm panel ${p.id}: report SIA DC-09 to ${c.perimeter.dc09?.host ?? '?'} port ${c.perimeter.dc09?.tcpPort ?? '?'} (TCP or UDP), account ${p.account}, ` +
          `AES key ${p.keySecret ? (secret(p.keySecret) ?? MISSING) : 'none'}, periodic test every ${p.supervisionS} s`,
      ),
  },
  cabinets: {
    prefix: 'cabinet',
    what: 'e-bike charging cabinets (Modbus)',
    yaml: (devices, ctx) =>
      [
        '# Charging cabinets speaking the Gatehouse register map (docs/cabinet-register-map.md) on the',
        '# RS-485 line; `gatehouse discover --modbus PATH` reads their identity and port count.',
        'cabinets:',
        ...devices.map(
          (d) =>
            `  - { id: ${d.id}${nameOf(d)}, bus: ${rtuBus(ctx.answers)}, unitId: ${d.address ?? ctx.nextUnit()}, ports: ${d.ports ?? 12} }`,
        ),
      ].join('\n'),
    instructions: (c) =>
      c.cabinets.map(
        (cab) =>
          `cabinet ${cab.id}: ${'rtu' in cab.bus ? `Modbus unit id ${cab.unitId}, ${cab.bus.rtu.baudRate} baud 8N1 on ${cab.bus.rtu.path}` : 'Modbus TCP'}, ${cab.ports} ports`,
      ),
  },
  swap: {
    prefix: 'swap',
    what: 'battery-swap cabinets (Modbus TCP)',
    // On Modbus TCP: the gateway opens each RS-485 path once per family, so swap cabinets cannot
    // share the charging cabinets' line (the family's check refuses it); TCP needs no second line.
    yaml: (devices) =>
      [
        '# Battery-swap cabinets speaking register map v1.1 kind 2 (docs/cabinet-register-map.md §10) on',
        "# Modbus TCP: set each cabinet's address. On RS-485 instead, give them their own line, not the",
        "# charging cabinets': bus: { rtu: { path: /dev/ttyUSB2, baudRate: 115200 } }. A cabinet with its own",
        '# OSDP reader names that access door (door: <doors[].id>); its door groups authorise swaps offline.',
        '# Packs the compound accepts besides those the cabinets already hold, by id prefix:',
        '#   swap: { packIdPrefixes: ["XY-"] }',
        'swapCabinets:',
        ...devices.map(
          (d, i) =>
            `  - { id: ${d.id}${nameOf(d)}, bus: { tcp: { host: ${q(d.host ?? `192.0.2.${40 + i}`)}, port: 502 } }, unitId: ${d.address ?? 1}, slots: ${d.ports ?? 12} }`,
        ),
      ].join('\n'),
    instructions: (c) =>
      c.swapCabinets.map(
        (cab) =>
          `swap cabinet ${cab.id}: ${'rtu' in cab.bus ? `Modbus unit id ${cab.unitId}, ${cab.bus.rtu.baudRate} baud 8N1 on ${cab.bus.rtu.path}` : `Modbus TCP server at ${cab.bus.tcp.host}:${cab.bus.tcp.port}, unit id ${cab.unitId}`}, ` +
          `${cab.slots} slots, register map v1.1 kind 2; slot doors relock after ${c.swap.openTimeoutS} s${cab.suppression ? '; fire suppression wired to its trigger' : ''}`,
      ),
  },
};
