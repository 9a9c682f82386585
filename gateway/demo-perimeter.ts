/**
 * The perimeter part of `gatehouse demo`: a simulated input module on Modbus TCP (IR beams
 * along the north wall, a tamper switch, an SOS pole, a siren relay), a SIA DC-09 intrusion
 * panel with a fresh AES-256 key, and an ONVIF camera whose RTSP stream is a local ffmpeg
 * test picture. The script: the north partition is armed at start (a `partition.arm`
 * through the router), an intruder walks along the wall every ~20 s, and when the beam of
 * the third zone is crossed the intruder also moves in front of camera 2 (issue 6); the
 * panel sends its periodic test every 30 s and now and then an alarm/restore pair.
 *
 * Also `startPerimeterOf`, for `gatehouse sim --config FILE`: the file's input modules and
 * cameras, each where the gateway will look for it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompoundConfig, InputModuleConfig } from '../config/schema.js';
import { startSimulatedInputModules, type SimInputModuleOptions, type SimulatedInputModules, type SimZone } from '../sim/perimeter/index.js';
import { startSimulatedPanels, type SimulatedPanels } from '../sim/dc09/index.js';
import { startSimulatedCameras, type SimulatedCamera } from '../sim/camera/index.js';
import { startTestStream, type TestStream } from '../sim/camera/rtsp.js';
import type { Gateway } from './app.js';
import { cameraPasswordSecret } from './cameras/family.js';

/** The binary the test stream (and the gateway's live view) runs; no ffmpeg, no camera. */
export const FFMPEG = '/usr/bin/ffmpeg';
/** In the test stream's ffmpeg command line, so `pgrep -f` finds a leftover. */
export const DEMO_RTSP_TAG = 'gatehouse-demo-rtsp';
const INTRUDER_EVERY_MS = 20_000;
const PANEL_TEST_S = 30;
/** "An intruder on zone 3 also moves in front of camera 2" (issue 6). */
const ZONE_3_CAMERA = 'cam-2';

export interface DemoPerimeter {
  /** What the compound gets: the module and camera on their real ports (the camera dropped without ffmpeg). */
  overrides: Pick<CompoundConfig, 'inputModules' | 'cameras' | 'linkage'>;
  /** Panel key and camera password, for the secrets. */
  secrets: Record<string, string>;
  /** After the gateway started: arm the north wall, connect the panel, start the script. */
  run(gateway: Gateway, say: (line: string) => void): Promise<void>;
  /** Banner lines, one family each, with ready-to-paste commands (`pub(command, args)`). */
  banner(pub: (command: string, args: Record<string, unknown>) => string): string[];
  /** Before the gateway stops: no more intruders, tests or alarms. */
  halt(): void;
  /** After the gateway stopped (stopping devices first would read as devices going offline). */
  stop(): Promise<void>;
}

export async function prepareDemoPerimeter(config: CompoundConfig, say: (line: string) => void): Promise<DemoPerimeter | undefined> {
  if (config.inputModules.length === 0) return undefined;
  const tcpModules = config.inputModules.filter((m) => 'tcp' in m.bus);
  const modules = await startSimulatedInputModules({
    tcp: tcpModules.map((m) => ({ ...moduleSpec(m), port: 0, host: '127.0.0.1' })),
    zones: simZones(config, new Set(tcpModules.map((m) => m.id))),
  });
  const secrets: Record<string, string> = {};
  for (const p of config.alarmPanels) if (p.keySecret) secrets[p.keySecret] = randomBytes(32).toString('hex'); // AES-256
  let camera: SimulatedCamera | undefined;
  let stream: TestStream | undefined;
  const camCfg = config.cameras.find((c) => c.id === ZONE_3_CAMERA) ?? config.cameras[0];
  try {
    if (camCfg && !existsSync(FFMPEG)) say(`  (camera skipped: ${FFMPEG} not found; install ffmpeg for the camera and its RTSP stream)`);
    else if (camCfg) {
      const password = randomBytes(12).toString('base64url');
      secrets[cameraPasswordSecret(camCfg)] = password;
      stream = await startTestStream({ path: `/${camCfg.id}`, size: '640x360', fps: 10, ffmpegPath: FFMPEG, tag: DEMO_RTSP_TAG });
      camera = (await startSimulatedCameras([{ id: camCfg.id, username: camCfg.username, password, rtspUrl: stream.url }], { host: '127.0.0.1', discovery: false }))[0]!;
      camera.presets.set('north-wall', 'North wall');
    }
  } catch (err) {
    await stream?.stop();
    await modules.stop();
    throw err;
  }
  const cameras = camera && camCfg ? [{ ...camCfg, host: '127.0.0.1', port: camera.httpPort }] : [];
  const cameraIds = new Set(cameras.map((c) => c.id));
  const overrides = {
    inputModules: config.inputModules.map((m): InputModuleConfig => ('tcp' in m.bus ? { ...m, bus: { tcp: { host: '127.0.0.1', port: modules.tcpPort(m.id) } } } : m)),
    cameras,
    // Without the camera, its linkage actions go too (the rest of the rule still holds).
    linkage: config.linkage.map((r) => ({ ...r, do: r.do.filter((a) => !('camera' in a) || cameraIds.has(a.camera)) })).filter((r) => r.do.length > 0),
  };

  const beams = config.zones.filter((z) => z.type === 'perimeter' && z.partition === 'north' && modules.modules.some((m) => m.id === z.module)).map((z) => z.id);
  const zone3 = config.zones[2];
  const panelCfg = config.alarmPanels[0];
  const abort = new AbortController();
  const pause = (ms: number): Promise<boolean> => sleep(ms, undefined, { signal: abort.signal }).then(() => true, () => false);
  const stopped = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  let panels: SimulatedPanels | undefined;
  const loops: Promise<void>[] = [];

  // Zone 3's beam crossed → the intruder walks into camera 2's picture. Observed at the
  // simulated module's input, so it holds however the beam gets crossed.
  if (camera && zone3 && modules.modules.some((m) => m.id === zone3.module)) {
    const mod = modules.module(zone3.module);
    const setInput = mod.setInput.bind(mod);
    const cam = camera;
    mod.setInput = (channel, active) => {
      const before = mod.inputs[channel];
      setInput(channel, active);
      const tripped = zone3.contact === 'NC' ? !active : active;
      if (channel === zone3.channel && before !== active && tripped && !abort.signal.aborted) {
        cam.motion(true);
        void pause(2000).then(() => cam.motion(false));
      }
    };
  }

  return {
    overrides,
    secrets,
    async run(gateway, sayLine) {
      const armed = await gateway.router.execute('partition.arm', { id: `demo-arm-${Date.now()}`, args: { partition: 'north' } }, { via: 'cli', role: 'admin', principal: 'demo' });
      if (!armed.ok) sayLine(`  (north wall not armed: ${JSON.stringify(armed)})`);
      loops.push(
        (async () => {
          let wait = 4000;
          while (await pause(wait)) {
            // A cancelled walk never ends: the stop signal ends the wait for it.
            await Promise.race([modules.scenario.intruder(beams, { stepMs: 1500, crossMs: 600 }), stopped]);
            wait = INTRUDER_EVERY_MS - 1500 * Math.max(0, beams.length - 1);
          }
        })(),
      );
      if (!panelCfg) return;
      const dc09 = gateway.status().dc09 as { tcpPort: number } | null;
      if (!dc09) return sayLine('  (DC-09 panel skipped: the gateway has no DC-09 receiver running)');
      panels = await startSimulatedPanels({
        host: '127.0.0.1',
        port: dc09.tcpPort,
        protocol: 'tcp',
        ackTimeoutMs: 1000,
        maxAttempts: 3,
        panels: [{ account: panelCfg.account, key: panelCfg.keySecret ? secrets[panelCfg.keySecret] : undefined, encrypted: panelCfg.keySecret !== undefined, periodicTestS: PANEL_TEST_S, format: 'SIA-DCS' }],
      });
      const panel = panels.panel(panelCfg.account);
      loops.push(
        (async () => {
          await panel.periodicTest(); // the panel reports in as the demo starts
          let wait = 12_000;
          while (await pause(wait)) {
            await panel.alarm(3);
            if (!(await pause(4000))) break;
            await panel.restore(3);
            wait = 40_000 + Math.random() * 30_000;
          }
        })().catch(() => undefined),
      );
    },
    banner(pub) {
      const lines = [
        `  perimeter: input module ${config.inputModules.map((m) => m.id).join(', ')} on Modbus TCP, ${config.zones.length} zones, north wall armed, siren ${config.outputs.map((o) => o.id).join(', ')}; an intruder every ~${INTRUDER_EVERY_MS / 1000} s. Disarm / arm the north wall:`,
        `    ${pub('partition.disarm', { partition: 'north' })}`,
        `    ${pub('partition.arm', { partition: 'north' })}`,
        `  alarms: list the open ones, then acknowledge one (ALARM=an alarmId from the feed):`,
        `    ${pub('alarm.list', {})}`,
        // The alarmId comes from the shell: close the quote around the JSON, put "$ALARM" in, reopen.
        `    ${pub('alarm.acknowledge', { alarmId: '__ALARM__', note: 'guard on the way' }).replace('__ALARM__', `'"$ALARM"'`)}`,
      ];
      if (panelCfg) lines.push(`  SIA DC-09 panel ${panelCfg.id} (account ${panelCfg.account}, AES-256) over TCP: a test every ${PANEL_TEST_S} s, now and then an alarm and its restore (acknowledge them as above)`);
      if (camera) {
        lines.push(`  camera ${camera.id} (ONVIF, RTSP test picture ${stream?.url}): a beam alarm turns it to the wall for a snapshot. Take one now:`);
        lines.push(`    ${pub('camera.snapshot', { camera: camera.id })}`);
      }
      return lines;
    },
    halt() {
      abort.abort();
      modules.scenario.cancel();
    },
    async stop() {
      abort.abort();
      await panels?.stop();
      await Promise.all(loops);
      await modules.stop();
      await camera?.stop();
      await stream?.stop();
    },
  };
}

/** The sim's view of a configured module: where its inputs, supervision and relays are. */
function moduleSpec(m: InputModuleConfig): SimInputModuleOptions {
  return {
    id: m.id,
    channels: m.channels,
    ...(m.inputs.table === 'discrete' ? { inputAddress: m.inputs.address } : { inputRegister: m.inputs.address }),
    ...(m.supervision ? { supervisionAddress: m.supervision.address } : {}),
    ...(m.outputs ? { coilAddress: m.outputs.address, coils: m.outputs.count } : {}),
  };
}

/** The zones on the given modules, so NC beams start receiving (normal) and scenarios speak zones. */
function simZones(config: CompoundConfig, modules: ReadonlySet<string>): SimZone[] {
  return config.zones.filter((z) => modules.has(z.module)).map((z) => ({ id: z.id, module: z.module, channel: z.channel, contact: z.contact }));
}

export interface PerimeterSims {
  lines: string[];
  stop(): Promise<void>;
}

/**
 * `gatehouse sim --config FILE`: the input modules and cameras of FILE. TCP modules listen on
 * their configured host:port; RTU modules answer on the serial path of their bus, all units
 * of one path on one line — like RTU cabinets, the sim gets the OTHER end of the line from
 * the gateway's. Cameras serve ONVIF on their configured host:port with the password from
 * the secrets, and (with ffmpeg) an RTSP test picture as their stream.
 */
export async function startPerimeterOf(config: CompoundConfig, secretOf: (name: string) => string | undefined): Promise<PerimeterSims> {
  const lines: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const tcp = config.inputModules.filter((m) => 'tcp' in m.bus);
    if (tcp.length) {
      const sim = await startSimulatedInputModules({
        tcp: tcp.map((m) => ({ ...moduleSpec(m), host: 'tcp' in m.bus ? m.bus.tcp.host : '127.0.0.1', port: 'tcp' in m.bus ? m.bus.tcp.port : 0 })),
        zones: simZones(config, new Set(tcp.map((m) => m.id))),
      });
      stops.push(() => sim.stop());
      for (const m of tcp) if ('tcp' in m.bus) lines.push(`simulating input module ${m.id} (${m.channels} channels) on Modbus TCP ${m.bus.tcp.host}:${m.bus.tcp.port}`);
    }
    const rtuLines = new Map<string, { baudRate: number; units: InputModuleConfig[] }>();
    for (const m of config.inputModules) {
      if (!('rtu' in m.bus)) continue;
      const line = rtuLines.get(m.bus.rtu.path) ?? { baudRate: m.bus.rtu.baudRate, units: [] };
      line.units.push(m);
      rtuLines.set(m.bus.rtu.path, line);
    }
    for (const [path, line] of rtuLines) {
      const sim: SimulatedInputModules = await startSimulatedInputModules({
        rtu: { path, baudRate: line.baudRate, units: line.units.map((m) => ({ ...moduleSpec(m), unitId: m.unitId })) },
        zones: simZones(config, new Set(line.units.map((m) => m.id))),
      });
      stops.push(() => sim.stop());
      for (const m of line.units) lines.push(`simulating input module ${m.id} (${m.channels} channels) on Modbus RTU ${path} unit ${m.unitId} (give the gateway the other end of the line)`);
    }
    const haveFfmpeg = existsSync(FFMPEG);
    if (config.cameras.length && !haveFfmpeg) lines.push(`cameras without an RTSP stream: ${FFMPEG} not found`);
    for (const c of config.cameras) {
      const secret = cameraPasswordSecret(c);
      const password = secretOf(secret);
      if (!password) throw new Error(`no password secret "${secret}" for camera ${c.id}; add it to the secrets file`);
      let rtspUrl: string | undefined;
      if (haveFfmpeg) {
        const stream = await startTestStream({ path: `/${c.id}`, ffmpegPath: FFMPEG, tag: `gatehouse-sim-rtsp-${c.id}` });
        stops.push(() => stream.stop());
        rtspUrl = stream.url;
      }
      const [cam] = await startSimulatedCameras([{ id: c.id, username: c.username, password, ...(rtspUrl ? { rtspUrl } : {}) }], { host: c.host, port: c.port, discovery: false });
      stops.push(() => cam!.stop());
      lines.push(`simulating camera ${c.id} (ONVIF) on http://${c.host}:${c.port}${c.path}${rtspUrl ? `, RTSP ${rtspUrl}` : ''}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { lines, stop };
}
