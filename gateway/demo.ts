/**
 * `gatehouse demo` and `gatehouse sim`. The demo runs the whole compound on one machine:
 * the gateway with its embedded broker, simulated locks as real MQTT clients, and a
 * platform-side watcher that prints what the platform would receive.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCompound, secretsFrom, type LoadedConfig } from '../config/load.js';
import { createLoggerFactory } from './core/log.js';
import { Gateway } from './app.js';
import { redactUrl } from './uplink/connection.js';
import { untilSignal } from './cli.js';
import { startSimulatedLocks } from '../sim/smartlock/index.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../sim/cabinet/index.js';
import type { CabinetConfig } from '../config/schema.js';
import { prepareDemoReaders, startReadersOf } from './demo-access.js';
import { prepareDemoPerimeter, startPerimeterOf, type PerimeterSims } from './demo-perimeter.js';
import { SETUP_LINK_FILE } from './console/console-server.js';

/** Bikes plugged in when the demo starts, and the ones the demo starts charging. */
const DEMO_PLUGGED: Record<string, number[]> = { 'cab-a': [1, 2, 5], 'cab-b': [3] };
const DEMO_CHARGING: [string, number][] = [['cab-a', 1], ['cab-a', 2], ['cab-b', 3]];

/** The package root, whether running from source (gateway/) or compiled (dist/gateway/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      readFileSync(join(dir, 'package.json'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error('cannot find the gatehouse package root');
}

export async function runDemo(opts: { durationS?: number | undefined }): Promise<number> {
  if (opts.durationS !== undefined && !(opts.durationS > 0)) {
    process.stderr.write('gatehouse demo: --duration must be a positive number of seconds\n');
    return 2;
  }
  const file = join(packageRoot(), 'config', 'demo.yaml');
  const parsed = parseCompound(readFileSync(file, 'utf8'), file);
  // The cabinets first, on free ports: demo.yaml holds placeholder ports (the schema refuses 0),
  // and the gateway must be pointed at the real ones before it is constructed.
  const cabinetSim = await startSimulatedCabinets({
    tcp: parsed.cabinets.filter((c) => 'tcp' in c.bus).map((c) => ({ id: c.id, ports: c.ports, port: 0, host: '127.0.0.1' })),
    plugged: Object.fromEntries(parsed.cabinets.map((c) => [c.id, (DEMO_PLUGGED[c.id] ?? []).filter((p) => p <= c.ports)])),
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const doors = await prepareDemoReaders(parsed, say);
  // Input modules and the camera likewise on free ports; the DC-09 receiver takes its own (tcpPort 0).
  let perimeter: Awaited<ReturnType<typeof prepareDemoPerimeter>>;
  try {
    perimeter = await prepareDemoPerimeter(parsed, say);
  } catch (err) {
    await doors?.stop();
    await cabinetSim.stop();
    throw err;
  }
  const config = {
    ...(doors?.config ?? { ...parsed, osdpBuses: [], readers: [], doors: [] }),
    cabinets: parsed.cabinets.map((c): CabinetConfig => ('tcp' in c.bus ? { ...c, bus: { tcp: { host: '127.0.0.1', port: cabinetSim.tcpPort(c.id) } } } : c)),
    ...perimeter?.overrides,
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  // Fresh random credentials on every run: the demo must not teach default passwords.
  const lockPasswords = Object.fromEntries(config.locks.map((l) => [`devices.${l.id}`, randomBytes(12).toString('base64url')]));
  const watchPassword = randomBytes(12).toString('base64url');
  // Device chatter (a lock going offline is a warning in a real compound) would drown the feed.
  const logs = createLoggerFactory({ ...config.log, level: 'error' });
  // The contract: GATEHOUSE_UPLINK_URL overrides uplink.url for every command, the demo included.
  const uplinkUrl = process.env.GATEHOUSE_UPLINK_URL || undefined;
  const secrets = secretsFrom({ ...lockPasswords, ...doors?.secrets, ...perimeter?.secrets });
  const gateway = new Gateway({ config, secrets, dataDir, logs, operators: [{ username: 'watch', password: watchPassword }], ...(uplinkUrl ? { uplinkUrl } : {}) });
  // Watch in-process from before the start, so the feed shows the very first events too: on the
  // embedded broker, or (forwarding to a platform, which the embedded broker then does not see) the outbox.
  const unwatch = uplinkUrl ? watchOutbox(gateway) : gateway.broker.subscribe(`${gateway.root}/#`, (topic, payload) => printMessage(topic.slice(gateway.root.length + 1), payload));
  try {
    await gateway.start();
  } catch (err) {
    // Open simulator sockets would keep the process alive after the error is printed.
    unwatch();
    await cabinetSim.stop();
    await doors?.stop();
    await perimeter?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = `mqtt://127.0.0.1:${gateway.brokerPort}`;
  const sim = await startSimulatedLocks({
    url,
    locks: config.locks.map((l) => ({ id: l.id, password: lockPasswords[`devices.${l.id}`]! })),
    scenario: { meanIntervalMs: 1500, offlineForMs: 10_000 },
  });

  const charging = startDemoCharging(gateway, config.cabinets, cabinetSim);
  await doors?.run(gateway);
  await perimeter?.run(gateway, say);

  const root = gateway.root;
  const cab = config.cabinets[0];
  // Commands go where the uplink listens: the embedded broker, or the platform's.
  const mqttAuth = uplinkUrl ? platformTarget(uplinkUrl) : `-h 127.0.0.1 -p ${gateway.brokerPort} -u watch -P '${watchPassword}'`;
  let cmdN = 3;
  const pub = (command: string, args: Record<string, unknown>) => `mosquitto_pub ${mqttAuth} -t '${root}/cmd/${command}' -m '${JSON.stringify({ id: `demo-${++cmdN}`, args })}'`;
  process.stdout.write(
    [
      '',
      `Gatehouse demo — compound ${config.compound.id}, gateway ${config.gateway.id}, ${config.locks.length} simulated smart locks`,
      `  embedded MQTT broker  ${url}   (data in ${dataDir})`,
      ...(uplinkUrl ? [`  forwarding to the platform at ${redactUrl(uplinkUrl)} (GATEHOUSE_UPLINK_URL); the feed is there under ${root}/#`] : []),
      `  watch the platform feed:`,
      `    mosquitto_sub ${mqttAuth} -t '${root}/#' -v`,
      `  open a flat door remotely:`,
      `    mosquitto_pub ${mqttAuth} -t '${root}/cmd/lock.open' -m '{"id":"demo-1","args":{"lock":"${config.locks[0]?.id}"}}'`,
      ...(cab
        ? [
            `  ${config.cabinets.length} simulated charging cabinet(s) on Modbus TCP; stop a charging bike:`,
            `    mosquitto_pub ${mqttAuth} -t '${root}/cmd/charging.stop' -m '{"id":"demo-2","args":{"cabinet":"${cab.id}","port":${DEMO_PLUGGED[cab.id]?.[0] ?? 1}}}'`,
          ]
        : []),
      ...(doors
        ? [
            `  ${config.readers.length} simulated OSDP readers (secure channel) on a pty RS-485 line; residents come and go. Open the main gate:`,
            `    mosquitto_pub ${mqttAuth} -t '${root}/cmd/door.open' -m '{"id":"demo-3","args":{"door":"main-gate"}}'`,
          ]
        : []),
      ...(perimeter?.banner(pub) ?? []),
      ...(gateway.consoleUrl
        ? [
            `  guard console: ${gateway.consoleUrl} (self-signed certificate); create the first administrator with the one-time link:`,
            // The demo's own terminal, not a journal: showing the link here is what keeps the demo usable.
            `    ${demoSetupLink(dataDir)}`,
          ]
        : []),
      `  events are printed below. Ctrl-C stops everything cleanly.`,
      '',
    ].join('\n') + '\n',
  );
  const stopReason = await Promise.race([untilSignal(), ...(opts.durationS ? [new Promise<string>((r) => setTimeout(() => r('duration'), opts.durationS! * 1000))] : [])]);
  process.stdout.write(`\nstopping (${stopReason})…\n`);
  perimeter?.halt();
  await charging.stop();
  await gateway.stop();
  // The devices after the gateway: stopping them first would read as devices going offline.
  await sim.stop();
  await doors?.stop();
  await perimeter?.stop();
  await cabinetSim.stop();
  unwatch();
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write('demo stopped cleanly\n');
  return 0;
}

/**
 * Starts the demo sessions the way the platform would (a charging.start command), once the
 * gateway has read each bike plugged in.
 */
function startDemoCharging(gateway: Gateway, cabinets: readonly CabinetConfig[], sim: SimulatedCabinets): { stop(): Promise<void> } {
  let stopping = false;
  const ids = new Set(cabinets.map((c) => c.id));
  const wanted = DEMO_CHARGING.filter(([id, port]) => ids.has(id) && port <= sim.cabinet(id).ports.length);
  const done = (async () => {
    const pending = [...wanted];
    const deadline = performance.now() + 15_000;
    let n = 0;
    while (pending.length && !stopping && performance.now() < deadline) {
      for (const [cabinet, port] of [...pending]) {
        // Only once the gateway has read the bike plugged in: no refused commands in the feed.
        if (gateway.cabinets.unit(cabinet)?.last?.ports.find((p) => p.port === port)?.state !== 'plugged') continue;
        const reply = await gateway.router.execute('charging.start', { id: `demo-start-${++n}`, args: { cabinet, port } }, { via: 'cli', role: 'admin', principal: 'demo' });
        if (reply.ok) pending.splice(pending.findIndex(([c, p]) => c === cabinet && p === port), 1);
      }
      if (pending.length) await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await done;
    },
  };
}

/** The setup link the console wrote to its 0600 file in the demo's throw-away data dir. */
function demoSetupLink(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, SETUP_LINK_FILE), 'utf8').trim();
  } catch {
    return '(no setup link: an administrator exists)';
  }
}

/** The feed as the outbox records it (what the uplink forwards); returns the unsubscribe. */
function watchOutbox(gateway: Gateway): () => void {
  // The class is the row's, not the envelope's (it names the topic); read right after the commit.
  const onRecorded = (envelopes: { seq: number }[]) => {
    for (const e of envelopes) printMessage(`evt/${String(gateway.outbox.eventClasses(e.seq, e.seq).get(e.seq) ?? '?')}`, Buffer.from(JSON.stringify(e)));
  };
  const onState = (device: string, body: string) => printMessage(`state/${device}`, Buffer.from(body));
  gateway.outbox.on('recorded', onRecorded);
  gateway.outbox.on('state', onState);
  return () => {
    gateway.outbox.off('recorded', onRecorded);
    gateway.outbox.off('state', onState);
  };
}

/** mosquitto_sub/pub options for the platform broker of GATEHOUSE_UPLINK_URL (its password is not repeated). */
function platformTarget(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'mqtts:' ? '8883' : '1883');
    return `-h ${u.hostname} -p ${port}${u.username ? ` -u '${decodeURIComponent(u.username)}' -P '…'` : ''}${u.protocol === 'mqtts:' ? ' --capath /etc/ssl/certs' : ''}`;
  } catch {
    return `-L '${redactUrl(url)}'`;
  }
}

function printMessage(topic: string, payload: Buffer): void {
  let line = topic;
  try {
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    if (topic.startsWith('evt/')) {
      const src = body.source as { device: string; point?: string };
      line = `#${String(body.seq).padStart(5)} ${topic.padEnd(13)} ${String(body.type).padEnd(18)} ${src.device}${src.point ? `/${src.point}` : ''} ${JSON.stringify(body.data)}`;
    } else line = `       ${topic.padEnd(13)} ${payload.toString()}`;
  } catch {
    line = `       ${topic} (${payload.length} bytes, not JSON)`;
  }
  process.stdout.write(`${line}\n`);
}

/** `gatehouse sim --config FILE`: the simulated devices of FILE, talking to the broker it names. */
export async function runSim(loaded: LoadedConfig): Promise<number> {
  const { config, secrets } = loaded;
  const host = config.broker.host === '0.0.0.0' ? '127.0.0.1' : config.broker.host;
  const url = `mqtt://${host}:${config.broker.port}`;
  const locks = config.locks.map((l) => ({ id: l.id, password: secrets.get(l.passwordSecret ?? `devices.${l.id}`) ?? '' }));
  const without = locks.filter((l) => !l.password).map((l) => l.id);
  if (without.length) {
    process.stderr.write(`gatehouse sim: no password secret for ${without.join(', ')}; add them to the secrets file\n`);
    return 2;
  }
  const cabinets: SimulatedCabinets[] = [];
  const stopCabinets = () => Promise.all(cabinets.map((c) => c.stop()));
  try {
    cabinets.push(...(await startCabinetsOf(config.cabinets)));
  } catch (err) {
    await stopCabinets();
    process.stderr.write(`gatehouse sim: cannot simulate the cabinets: ${(err as Error).message}\n`);
    return 1;
  }
  let readers: Awaited<ReturnType<typeof startReadersOf>> = [];
  try {
    readers = await startReadersOf(config, (n) => secrets.get(n));
  } catch (err) {
    await stopCabinets();
    process.stderr.write(`gatehouse sim: cannot simulate the OSDP readers: ${(err as Error).message}\n`);
    return 1;
  }
  let perimeter: PerimeterSims;
  try {
    perimeter = await startPerimeterOf(config, (n) => secrets.get(n));
  } catch (err) {
    await stopCabinets();
    await Promise.all(readers.map((r) => r.close()));
    process.stderr.write(`gatehouse sim: cannot simulate the input modules and cameras: ${(err as Error).message}\n`);
    return 1;
  }
  for (const bus of config.osdpBuses) process.stdout.write(`simulating ${config.readers.filter((r) => r.bus === bus.id).length} OSDP reader(s) on ${bus.path} (give the gateway the other end of the line)\n`);
  const sim = locks.length ? await startSimulatedLocks({ url, locks }) : undefined;
  if (locks.length) process.stdout.write(`simulating ${locks.length} lock(s) against ${url}\n`);
  for (const c of config.cabinets) {
    const where = 'tcp' in c.bus ? `Modbus TCP ${c.bus.tcp.host}:${c.bus.tcp.port}` : `Modbus RTU ${c.bus.rtu.path} unit ${c.unitId}`;
    process.stdout.write(`simulating cabinet ${c.id} (${c.ports} ports) on ${where}\n`);
  }
  for (const line of perimeter.lines) process.stdout.write(`${line}\n`);
  process.stdout.write('Ctrl-C stops\n');
  await untilSignal();
  await sim?.stop();
  await stopCabinets();
  await Promise.all(readers.map((r) => r.close()));
  await perimeter.stop();
  return 0;
}

/**
 * The cabinets of a compound file, each where the gateway will look for it. TCP cabinets
 * listen on their configured host:port. RTU cabinets answer on the serial path of their bus,
 * all units of one path on one simulated line: for RTU the installer gives the sim the OTHER
 * end of the line from the one the gateway opens, e.g. one end of a socat pty pair
 * (`socat pty,raw,echo=0,link=/tmp/bus-gw pty,raw,echo=0,link=/tmp/bus-sim`, the gateway's file
 * naming /tmp/bus-gw and the sim's naming /tmp/bus-sim), or a second USB adapter on the same
 * RS-485 pair. Pointing both at the same path cannot work.
 */
export async function startCabinetsOf(cabinets: readonly CabinetConfig[]): Promise<SimulatedCabinets[]> {
  const started: SimulatedCabinets[] = [];
  try {
    const tcp = cabinets.flatMap((c) => ('tcp' in c.bus ? [{ id: c.id, ports: c.ports, host: c.bus.tcp.host, port: c.bus.tcp.port }] : []));
    if (tcp.length) started.push(await startSimulatedCabinets({ tcp }));
    const lines = new Map<string, { baudRate: number; units: { id: string; ports: number; unitId: number }[] }>();
    for (const c of cabinets) {
      if (!('rtu' in c.bus)) continue;
      const line = lines.get(c.bus.rtu.path) ?? { baudRate: c.bus.rtu.baudRate, units: [] };
      line.units.push({ id: c.id, ports: c.ports, unitId: c.unitId });
      lines.set(c.bus.rtu.path, line);
    }
    for (const [path, line] of lines) started.push(await startSimulatedCabinets({ rtu: { path, baudRate: line.baudRate, units: line.units } }));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return started;
}
