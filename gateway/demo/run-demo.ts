/**
 * `gatehouse demo`: the whole compound on one machine: the gateway with its embedded broker,
 * each family's simulated devices and story (the scenarios in sim/<family>/demo-scenario.ts,
 * found by listing sim/), and a platform-side watcher that prints what the platform would
 * receive. This folder is the only part of gateway/ that imports sim/, and cli.ts loads it
 * only for the `demo` and `sim` commands.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parseCompound, secretsFrom } from '../../config/load.js';
import { splitUplinkUrls, type CompoundConfig } from '../../config/schema.js';
import { loadScenarios, type DemoHost, type DemoStory, type RunningScenario } from '../../sim/scenarios.js';
import { createLoggerFactory } from '../core/log.js';
import { Gateway } from '../app.js';
import { redactUrl } from '../uplink/connection.js';
import { untilSignal } from '../signals.js';
import { SETUP_LINK_FILE } from '../console/console-server.js';
import { platformTarget, printMessage, watchOutbox } from './feed.js';

/** The package root, whether running from source (gateway/demo/) or compiled (dist/gateway/demo/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
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
  let config: CompoundConfig = parseCompound(readFileSync(file, 'utf8'), file);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // Each family's simulators first, on free ports: demo.yaml holds placeholder ports (the schema
  // refuses 0) and paths, and the gateway must be pointed at the real ones before it is constructed.
  const story: DemoStory = new EventEmitter();
  const running: RunningScenario[] = [];
  const stopAll = async () => {
    for (const r of running.splice(0)) await r.stop();
  };
  let secretValues: Record<string, string> = {};
  try {
    for (const scenario of await loadScenarios()) {
      const r = await scenario.prepare(config, say, story);
      if (!r) continue;
      running.push(r);
      config = { ...config, ...r.config };
      secretValues = { ...secretValues, ...r.secrets };
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  const watchPassword = randomBytes(12).toString('base64url');
  // Device chatter (a lock going offline is a warning in a real compound) would drown the feed.
  const logs = createLoggerFactory({ ...config.log, level: 'error' });
  // The contract: GATEHOUSE_UPLINK_URL overrides uplink.url for every command, the demo included.
  const uplinkUrl = process.env.GATEHOUSE_UPLINK_URL || undefined;
  const gateway = new Gateway({
    config,
    secrets: secretsFrom(secretValues),
    dataDir,
    logs,
    operators: [{ username: 'watch', password: watchPassword }],
    ...(uplinkUrl ? { uplinkUrl } : {}),
  });
  // Watch in-process from before the start, so the feed shows the very first events too: on the
  // embedded broker, or (forwarding to a platform, which the embedded broker then does not see) the outbox.
  const unwatch = uplinkUrl
    ? watchOutbox(gateway)
    : gateway.broker.subscribe(`${gateway.root}/#`, (topic, payload) => printMessage(topic.slice(gateway.root.length + 1), payload));
  // The retained states as the platform sees them, for scenarios that wait on a device (a bike plugged in).
  const states = new Map<string, Record<string, unknown>>();
  const onState = (device: string, body: string) => {
    try {
      states.set(device, JSON.parse(body) as Record<string, unknown>);
    } catch {
      /* not ours to judge: the feed prints it */
    }
  };
  gateway.outbox.on('state', onState);
  try {
    await gateway.start();
  } catch (err) {
    // Open simulator sockets would keep the process alive after the error is printed.
    unwatch();
    gateway.outbox.off('state', onState);
    await stopAll();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = `mqtt://127.0.0.1:${gateway.brokerPort}`;
  const host: DemoHost = {
    brokerUrl: url,
    dc09TcpPort: (gateway.status().dc09 as { tcpPort: number } | null)?.tcpPort,
    execute: (command, args, id) => gateway.router.execute(command, { id, args }, { via: 'cli', role: 'admin', principal: 'demo' }),
    state: (device) => states.get(device),
  };
  for (const r of running) await r.run?.(host, say);

  const root = gateway.root;
  // Commands go where the uplink listens: the embedded broker, or the platform's.
  const mqttAuth = uplinkUrl
    ? platformTarget(splitUplinkUrls(uplinkUrl)[0] ?? uplinkUrl)
    : `-h 127.0.0.1 -p ${gateway.brokerPort} -u watch -P '${watchPassword}'`;
  let cmdN = 0;
  const pub = (command: string, args: Record<string, unknown>) =>
    `mosquitto_pub ${mqttAuth} -t '${root}/cmd/${command}' -m '${JSON.stringify({ id: `demo-${++cmdN}`, args })}'`;
  process.stdout.write(
    [
      '',
      `Gatehouse demo — compound ${config.compound.id}, gateway ${config.gateway.id}, ${config.locks.length} simulated smart locks`,
      `  embedded MQTT broker  ${url}   (data in ${dataDir})`,
      ...(uplinkUrl
        ? [
            `  forwarding to the platform at ${splitUplinkUrls(uplinkUrl).map(redactUrl).join(', ')} (GATEHOUSE_UPLINK_URL); the feed is there under ${root}/#`,
          ]
        : []),
      `  watch the platform feed:`,
      `    mosquitto_sub ${mqttAuth} -t '${root}/#' -v`,
      ...running.flatMap((r) => r.banner?.(pub) ?? []),
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
  let timer: NodeJS.Timeout | undefined;
  const stopReason = await Promise.race([
    untilSignal(),
    ...(opts.durationS ? [new Promise<string>((r) => (timer = setTimeout(() => r('duration'), opts.durationS! * 1000)))] : []),
  ]);
  clearTimeout(timer);
  process.stdout.write(`\nstopping (${stopReason})…\n`);
  for (const r of running) await r.halt?.();
  await gateway.stop();
  // The devices after the gateway: stopping them first would read as devices going offline.
  await stopAll();
  unwatch();
  gateway.outbox.off('state', onState);
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write('demo stopped cleanly\n');
  return 0;
}

/** The setup link the console wrote to its 0600 file in the demo's throw-away data dir. */
function demoSetupLink(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, SETUP_LINK_FILE), 'utf8').trim();
  } catch {
    return '(no setup link: an administrator exists)';
  }
}
