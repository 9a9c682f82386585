/**
 * The `gatehouse` command line (CONTRACT.md). Exit status: 0 success, 1 failure,
 * 2 bad usage or bad configuration — and with a bad configuration nothing starts.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadCompoundFile, ConfigError, type LoadedConfig } from '../config/load.js';
import { uplinkUrls } from '../config/schema.js';
import { isGatehouseError } from './core/errors.js';
import { createLoggerFactory } from './core/log.js';
import type { Gateway } from './app.js';
import { prepareDataDir, PRIVATE_UMASK } from './data-dir.js';
import { VERSION } from './version.js';
import { FAMILIES } from './families/registry.js';
import { secretsOf } from './families/boot.js';
import { deviceSummary } from './families/summary.js';
import { appliedConfigNotice } from './remote-config/applied-notice.js';
import { readerKeySecret } from './access/family.js';
import { untilSignal } from './signals.js';

/** Exit status asking systemd for a restart into a new configuration (EX_TEMPFAIL; the unit restarts on it). */
export const RESTART_EXIT = 75;
// Everything else (the daemon, family code, drivers, the console, the demo) is imported by
// the subcommand that needs it: `gatehouse check` loads no device code at all.

const USAGE = `gatehouse ${VERSION} — the compound security edge gateway

Usage:
  gatehouse demo [--duration SECONDS]        everything on one machine: embedded broker, simulated
                                             compound, gateway; prints how to watch the events
  gatehouse run --config FILE [--data DIR]   the daemon for a real compound (default data dir
                                             /var/lib/gatehouse)
  gatehouse sim --config FILE                simulated hardware for the devices in FILE
  gatehouse check --config FILE [--devices [--report FILE.html] [--installer NAME]] [--data DIR]
                                             validate FILE; with --devices, connect to every device
                                             now (through the daemon if it runs) and report each;
                                             --report writes the commissioning sheet (HTML, A4)
  gatehouse discover --osdp PATH [--baud N] [--addresses FROM-TO]
                                             list the OSDP readers on an RS-485 line (address,
                                             vendor, model, serial, firmware); default 0-126
  gatehouse discover --modbus PATH|tcp://HOST:PORT [--baud N] [--parity even|none|odd] [--units FROM-TO] [--timeout MS]
                                             find the Modbus units (cabinets by their signature,
                                             input modules) and print YAML for them; default
                                             9600 baud 8N1, units 1-247
  gatehouse discover --onvif [--config FILE]  list the ONVIF cameras answering WS-Discovery; with
                                             FILE, log in to each configured one to check its
                                             credentials
  gatehouse init [--answers FILE] [--compound ID --gateway ID --families LIST ...] [--force] [--group NAME]
                                             start a compound file and its secrets file (asks on a
                                             terminal); prints what to set on each device
  gatehouse user add|passwd|disable|list --config FILE [--data DIR] [--username NAME] [--role ROLE]
                                             console accounts (the first administrator too);
                                             passwords from stdin or a prompt, never arguments
  gatehouse cert request --config FILE [--data DIR]
                                             a new private key on this box (0600) and a CSR
                                             (CN={compound}/{gateway}) for the district's CA
  gatehouse cert install CERT --config FILE [--data DIR]
                                             check CERT (key, uplink.caFile, ids, dates) and
                                             install it for the uplink
  gatehouse fleet --boxes N [--rate R] --uplink URL[,URL...] [--events N] [--duration SECONDS] [--prefix P]
                                             emulate N boxes publishing to a district broker (cluster);
                                             passwords from GATEHOUSE_FLEET_SECRET (docs/DISTRICT.md)
  gatehouse --version | --help

Environment:
  GATEHOUSE_UPLINK_URL   overrides uplink.url/urls from the compound file (a comma-separated list for a broker cluster)

Exit status: 0 success, 1 failure, 2 bad usage or bad configuration.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // Subcommands (`user add`) parse their own arguments.
  if (command === 'user') return (await import('./console/user-cli.js')).runUserCli(rest);
  if (command === 'init') return (await import('./install/init-command.js')).runInit(rest);
  if (command === 'cert') return (await import('./uplink/cert-cli.js')).runCertCli(rest);
  let args: ReturnType<typeof parse>;
  try {
    args = parse(rest);
  } catch (err) {
    process.stderr.write(`gatehouse ${command}: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'demo': {
      // The demo and the simulators are loaded only for these commands: the daemon never imports sim/.
      const { runDemo } = await import('./demo/run-demo.js');
      return runDemo({ durationS: args.duration === undefined ? undefined : Number(args.duration) });
    }
    case 'fleet': {
      const { runFleet } = await import('./demo/run-fleet.js');
      return runFleet(args);
    }
    case 'run':
      return withConfig(command, args.config, (loaded) => runDaemon(loaded, args.data ?? '/var/lib/gatehouse'));
    case 'sim': {
      const { runSim } = await import('./demo/run-sim.js');
      return withConfig(command, args.config, (loaded) => runSim(loaded));
    }
    case 'check':
      if ((args.report !== undefined || args.installer !== undefined) && args.devices !== true) {
        process.stderr.write('gatehouse check: --report and --installer go with --devices (the report holds the live results)\n');
        return 2;
      }
      return withConfig(command, args.config, (loaded) =>
        check(loaded, args.devices === true, args.data ?? '/var/lib/gatehouse', { report: args.report, installer: args.installer }),
      );
    case 'discover':
      if (args.osdp) {
        const { discoverOsdp } = await import('./install/discover-osdp.js');
        return discoverOsdp(args.osdp, args.baud === undefined ? 115_200 : Number(args.baud), args.addresses);
      }
      if (args.modbus) {
        const { discoverModbus } = await import('./install/discover-modbus.js');
        return discoverModbus({ target: args.modbus, baud: args.baud, parity: args.parity, units: args.units, timeout: args.timeout });
      }
      if (args.onvif) {
        const { discoverOnvif } = await import('./cameras/discover-command.js');
        return args.config ? withConfig(command, args.config, (loaded) => discoverOnvif({ loaded })) : discoverOnvif();
      }
      process.stderr.write(
        'gatehouse discover: say what to scan: --osdp PATH [--baud N] lists the OSDP readers on an RS-485 line;\n' +
          '--onvif [--config FILE] lists the ONVIF cameras on the local network (and checks their credentials);\n' +
          '--modbus PATH|tcp://HOST:PORT [--baud N] [--parity even|none|odd] lists the Modbus units (cabinets, input modules).\n' +
          'Smart locks are not discovered: they connect to the embedded broker with their own credentials.\n',
      );
      return 2;
    default:
      process.stderr.write(`gatehouse: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function parse(rest: string[]) {
  return parseArgs({
    args: rest,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      data: { type: 'string', short: 'd' },
      devices: { type: 'boolean' },
      duration: { type: 'string' },
      osdp: { type: 'string' },
      baud: { type: 'string' },
      addresses: { type: 'string' },
      onvif: { type: 'boolean' },
      modbus: { type: 'string' },
      parity: { type: 'string' },
      units: { type: 'string' },
      timeout: { type: 'string' },
      report: { type: 'string' },
      installer: { type: 'string' },
      boxes: { type: 'string' },
      rate: { type: 'string' },
      uplink: { type: 'string' },
      events: { type: 'string' },
      prefix: { type: 'string' },
    },
  }).values;
}

async function withConfig(command: string, file: string | undefined, fn: (loaded: LoadedConfig) => Promise<number>): Promise<number> {
  if (!file) {
    process.stderr.write(`gatehouse ${command}: --config FILE is required\n`);
    return 2;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadCompoundFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `gatehouse ${command}: ${err.problems.length} problem${err.problems.length > 1 ? 's' : ''} in the configuration; nothing was started:\n${err.message}\n`,
      );
      return 2;
    }
    if (isGatehouseError(err, 'CONFIG_UNREADABLE')) {
      process.stderr.write(`gatehouse ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  return fn(loaded);
}

async function check(
  loaded: LoadedConfig,
  devices: boolean,
  dataDir: string,
  out: { report?: string | undefined; installer?: string | undefined } = {},
): Promise<number> {
  const { config } = loaded;
  if (config.uplink?.passwordSecret && !loaded.secrets.has(config.uplink.passwordSecret)) {
    process.stderr.write(`${loaded.file}: uplink.passwordSecret "${config.uplink.passwordSecret}" is not in the secrets file\n`);
    return 2;
  }
  // Every secret the configured families read, by the name their manifest resolves (defaults included).
  const missing = secretsOf(FAMILIES, config).filter((ref) => ref.required && !loaded.secrets.has(ref.name));
  for (const ref of missing)
    process.stderr.write(`${loaded.file}: ${ref.what} has no ${ref.kind ?? 'password'} secret "${ref.name}": add it to the secrets file\n`);
  const problems = await checkFamilySecrets(loaded, dataDir);
  for (const p of problems.errors) process.stderr.write(`${loaded.file}: ${p}\n`);
  for (const p of problems.warnings) process.stderr.write(`warning: ${loaded.file}: ${p}\n`);
  if (problems.errors.length || missing.length) return 2;
  process.stdout.write(
    `${loaded.file}: valid — compound ${config.compound.id}, gateway ${config.gateway.id}, ${deviceSummary(config, FAMILIES)}, uplink ${config.uplink ? `configured (${uplinkUrls(config.uplink).length} broker node(s))` : 'none (embedded broker only)'}\n`,
  );
  const applied = appliedConfigNotice(loaded.file, dataDir);
  if (applied) process.stderr.write(`note: ${applied}\n`);
  const loopback = /^(127\.|::1$|localhost$)/.test(config.broker.host);
  let plainBroker: string | undefined;
  if (!loopback && !config.broker.tls?.only && config.locks.length) {
    plainBroker = `${loaded.file}: the embedded broker accepts plain MQTT on ${config.broker.host}: card and PIN pushes to locks using it cross the LAN in clear (set broker.tls, and tls.only once every lock uses TLS; see drivers/smartlock/README.md)`;
    process.stderr.write(`warning: ${plainBroker}\n`);
  }
  if (config.metrics.enabled && !isLoopbackHost(config.metrics.host)) {
    process.stderr.write(
      `warning: ${loaded.file}: metrics.host is ${config.metrics.host}: /metrics and /healthz answer anyone who reaches it, without a login (numbers only, no events or secrets); let only the Prometheus server reach port ${config.metrics.port}\n`,
    );
  }
  if (config.broker.tls) {
    const { loadBrokerTls } = await import('./broker/broker-tls.js');
    // Lock vendors pin this (or trust the certificate itself as their CA): print it where installers look.
    try {
      const tls = loadBrokerTls(config.broker.tls, { dataDir: resolve(dataDir), host: config.broker.host });
      process.stdout.write(
        `broker TLS on ${config.broker.host}:${config.broker.tls.port}: certificate ${tls.certFile}${tls.generated ? ' (generated now)' : ''}, SHA-256 fingerprint ${tls.fingerprint256}${tls.ca ? ', client certificates required (mutual TLS)' : ''}\n`,
      );
    } catch (err) {
      process.stderr.write(`${loaded.file}: broker.tls: ${(err as Error).message}\n`);
      return 2;
    }
  }
  if (!devices) return 0;
  // Every device now, through the daemon if it runs (it holds the serial ports): gateway/probe/.
  const { checkDevices } = await import('./probe/check-devices.js');
  const warnings = [...loaded.warnings, ...problems.warnings.map((w) => `${loaded.file}: ${w}`)];
  if (plainBroker) warnings.push(plainBroker);
  return checkDevices(loaded, { dataDir, report: out.report, installer: out.installer, warnings });
}

/**
 * What a secret's presence does not tell: a reader's key may be installed in the data
 * directory instead (`secure: install`), and a DC-09 key must be AES-sized hex.
 */
async function checkFamilySecrets(loaded: LoadedConfig, dataDir: string): Promise<{ errors: string[]; warnings: string[] }> {
  const errors: string[] = [];
  const warnings: string[] = [];
  let keys: { keyFor(r: (typeof loaded.config.readers)[number]): Uint8Array | undefined } | undefined;
  if (loaded.config.readers.length) {
    try {
      const { ReaderKeyStore } = await import('./access/keys.js');
      keys = new ReaderKeyStore(resolve(dataDir), loaded.secrets, { readOnly: true });
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  for (const r of loaded.config.readers) {
    if (r.secure === 'off') {
      warnings.push(`reader ${r.id} runs without secure channel: card numbers cross the RS-485 line in clear`);
      continue;
    }
    if (r.secure === 'install' || !keys) continue;
    try {
      if (!keys.keyFor(r))
        errors.push(
          `reader ${r.id} needs a secure channel key: add "${readerKeySecret(r)}" (32 hex digits) to the secrets file, or set secure: install for a new reader`,
        );
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  for (const panel of loaded.config.alarmPanels) {
    if (!panel.keySecret) {
      warnings.push(`alarm panel ${panel.id} has no AES key (keySecret): its DC-09 messages are accepted unencrypted`);
      continue;
    }
    // A missing one is reported with every family's missing secrets (secretsOf).
    const key = loaded.secrets.get(panel.keySecret);
    if (key !== undefined && !/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(key))
      errors.push(`alarm panel ${panel.id}: secret "${panel.keySecret}" must be 32, 48 or 64 hex digits (AES-128/192/256)`);
  }
  if (loaded.config.alarmPanels.length && !loaded.config.perimeter.dc09)
    warnings.push('alarmPanels are configured but perimeter.dc09 is not: no receiver will listen for them');
  const dc09Host = loaded.config.perimeter.dc09?.host;
  if (loaded.config.alarmPanels.length && dc09Host !== undefined && isLoopbackHost(dc09Host)) {
    warnings.push(
      `perimeter.dc09 listens on ${dc09Host} only (the default): panels on the LAN cannot reach it; set perimeter.dc09.host to the LAN address they report to`,
    );
  }
  return { errors, warnings };
}

/** 127.0.0.0/8, ::1 or localhost: reachable from this box only. */
function isLoopbackHost(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}

async function runDaemon(seed: LoadedConfig, dataDir: string): Promise<number> {
  // Before anything creates a file: SQLite, openssl and ffmpeg honour the umask, not our modes.
  process.umask(PRIVATE_UMASK);
  let tightened: string[];
  try {
    tightened = prepareDataDir(dataDir);
  } catch (err) {
    if (!isGatehouseError(err, 'DATA_DIR_UNUSABLE')) throw err;
    process.stderr.write(`gatehouse run: ${err.message}\n`);
    return 1;
  }
  // The seed (--config) or the file the platform applied last (config.apply), read from the data
  // directory once its owner and modes are checked: gateway/remote-config/startup.ts.
  const { resolveStartup, rollBackAtStart } = await import('./remote-config/startup.js');
  const startup = resolveStartup(seed.file, dataDir);
  const loaded = startup.loaded;
  const logs = createLoggerFactory(loaded.config.log);
  if (tightened.length) logs.root.warn({ files: tightened }, 'data directory permissions tightened to 0700/0600');
  for (const note of startup.notes) logs.root.warn({ config: startup.source.version }, note);
  let gateway: Gateway;
  // config.apply and secrets.set restart the daemon: the unit's Restart=always starts it again with the new files.
  let restartRequested: (reason: string) => void = () => undefined;
  const restart = new Promise<string>((r) => (restartRequested = r));
  try {
    const uplinkUrl = process.env.GATEHOUSE_UPLINK_URL || undefined;
    const { Gateway } = await import('./app.js');
    gateway = new Gateway({
      config: loaded.config,
      secrets: loaded.secrets,
      dataDir,
      logs,
      uplinkUrl,
      remoteConfig: { source: startup.source, restart: (reason) => restartRequested(reason) },
    });
  } catch (err) {
    // A new outbox.db cannot be created on a full disk: say so in one line, not a stack trace.
    if (!isGatehouseError(err, 'OUTBOX_DISK_FULL') && !isGatehouseError(err, 'DATA_DIR_UNUSABLE')) throw err;
    process.stderr.write(`gatehouse run: ${err.code}: ${err.message}\n`);
    return 1;
  }
  try {
    await gateway.start();
  } catch (err) {
    if (!isGatehouseError(err, 'COMPONENT_REQUIRED_FAILED')) throw err;
    // Exit 1, not 2: the configuration is valid; systemd restarts and the port may be free then.
    logs.root.fatal({ code: err.code, ...err.details }, err.message);
    process.stderr.write(`gatehouse run: ${err.message}\n`);
    // A configuration on probation that cannot start is rolled back now; the restart brings back the previous one.
    if (rollBackAtStart(dataDir, startup.source, `it could not start: ${err.message}`)) return RESTART_EXIT;
    return 1;
  }
  // Listening before saying "running": a SIGTERM sent on that line must stop us cleanly.
  const signalled = untilSignal();
  // Every timer of the gateway is unref'd: with no listener open (a broker nobody needs that
  // could not start, an uplink waiting to reconnect) nothing else would keep the daemon alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  logs.root.info(
    { compound: loaded.config.compound.id, gateway: loaded.config.gateway.id, broker: gateway.brokerPort },
    'gatehouse running',
  );
  const why = await Promise.race([signalled.then(() => undefined), restart]);
  clearInterval(keepAlive);
  logs.root.info(why ? { reason: why } : {}, why ? 'restarting for a configuration change' : 'stopping');
  await gateway.stop();
  logs.root.info('stopped');
  return why ? RESTART_EXIT : 0;
}
