/**
 * A real 3-node RabbitMQ cluster on one machine, from Debian's `rabbitmq-server` (3.10 in
 * bookworm), for the district tests and benchmark (issue 16). No shell script: every step
 * is a process spawned from here with its own environment, so a failure says which step.
 *
 * Per node: a distinct node name (`rabbit-<tag>-N@localhost`, the tag keeps parallel runs
 * and other engineers' clusters apart in the machine's one epmd), free ports for AMQP,
 * Erlang distribution, MQTT and Web MQTT, all bound to 127.0.0.1, and its own data and log
 * dirs under one temp dir. The nodes share an Erlang cookie through a HOME of our own
 * (the CLI tools read `$HOME/.erlang.cookie` too). Plugins are enabled offline
 * (`rabbitmq-plugins --offline enable rabbitmq_mqtt rabbitmq_web_mqtt`) before boot.
 *
 * Nodes 2..N boot standalone and then `join_cluster` node 1 (stop_app, join, start_app).
 * A killed node restarted on the same data dir rejoins by itself: its mnesia dir knows the
 * cluster.
 *
 * Security by default even in tests: no `guest` user (a random `default_user` replaces it),
 * MQTT without anonymous logins, one user per box allowed to publish only under its own
 * `gatehouse/v1/{compound}/{gateway}` topics (topic permissions on `amq.topic`) and to
 * declare only its own MQTT subscription queues.
 *
 * Users, permissions, the platform's quorum queue and its binding are loaded in one
 * `rabbitmqctl import_definitions` call: 300 boxes as 300 `add_user` calls would take
 * minutes of CLI start-up.
 *
 * Fails loudly when rabbitmq-server is not installed (`.ci/run` installs it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/mosquitto.js';

export const RABBIT_SBIN = process.env.GATEHOUSE_RABBITMQ_SBIN ?? '/usr/lib/rabbitmq/bin';
/** The vhost of the district: boxes (MQTT) and platform consumers (AMQP) meet there. */
export const DISTRICT_VHOST = 'district';
/** The quorum queue the platform consumers compete on. */
export const EVENTS_QUEUE = 'district.events';
/** MQTT `gatehouse/v1/+/+/evt/+` as an AMQP topic pattern on amq.topic (MQTT `/` is AMQP `.`). */
export const EVENTS_BINDING = 'gatehouse.v1.*.*.evt.*';

export function requireRabbit(): void {
  if (!existsSync(join(RABBIT_SBIN, 'rabbitmq-server'))) {
    throw new Error(
      `RabbitMQ is not installed (${RABBIT_SBIN}/rabbitmq-server is missing). The district tests need a real broker cluster: ` +
        'install it with `apt-get install -y rabbitmq-server` (the .ci/run script does) or point GATEHOUSE_RABBITMQ_SBIN at its sbin dir.',
    );
  }
}

export interface BoxCredentials {
  compound: string;
  gateway: string;
  username: string;
  password: string;
  /** The MQTT client id this box uses (its subscription queue is named after it). */
  clientId: string;
}

/** The credentials pattern of a box: one user per gateway, named after its topic root. */
export function boxCredentials(compound: string, gateway: string, password = randomBytes(12).toString('hex')): BoxCredentials {
  return { compound, gateway, username: `box-${compound}-${gateway}`, password, clientId: `gatehouse-${compound}-${gateway}` };
}

export interface RabbitNode {
  index: number;
  name: string;
  amqpPort: number;
  distPort: number;
  mqttPort: number;
  webMqttPort: number;
  dir: string;
  proc?: ChildProcess;
}

export interface ClusterOptions {
  nodes?: number;
  /** How long one node may take to boot. Default 90 s (2 shared cores). */
  bootTimeoutMs?: number;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ password)). */
export function rabbitPasswordHash(password: string): string {
  const salt = randomBytes(4);
  const h = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, h]).toString('base64');
}

/** Clusters of this process: their nodes are killed at exit even if a test forgot to stop them, or crashed. */
const liveClusters = new Set<RabbitCluster>();
process.once('exit', () => {
  for (const c of liveClusters) for (let i = 0; i < c.nodes.length; i++) c.kill(i);
});

export class RabbitCluster {
  readonly platformUser = 'platform';
  readonly platformPassword = randomBytes(12).toString('hex');

  private constructor(
    readonly dir: string,
    readonly home: string,
    readonly nodes: RabbitNode[],
    private readonly bootTimeoutMs: number,
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<RabbitCluster> {
    requireRabbit();
    const n = opts.nodes ?? 3;
    const tag = randomBytes(3).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-rabbit-'));
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const cookie = join(home, '.erlang.cookie');
    writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
    chmodSync(cookie, 0o400);
    const adminUser = `admin-${tag}`;
    const adminPass = randomBytes(16).toString('hex');
    const nodes: RabbitNode[] = [];
    for (let i = 1; i <= n; i++) {
      const node: RabbitNode = {
        index: i,
        name: `rabbit-${tag}-${i}@localhost`,
        amqpPort: await freePort(),
        distPort: await freePort(),
        mqttPort: await freePort(),
        webMqttPort: await freePort(),
        dir: join(dir, `node-${i}`),
      };
      mkdirSync(node.dir, { mode: 0o700 });
      writeFileSync(join(node.dir, 'rabbitmq-env.conf'), '');
      writeFileSync(
        join(node.dir, 'rabbitmq.conf'),
        [
          `listeners.tcp.default = 127.0.0.1:${node.amqpPort}`,
          'loopback_users = none',
          `default_user = ${adminUser}`,
          `default_pass = ${adminPass}`,
          `mqtt.listeners.tcp.default = 127.0.0.1:${node.mqttPort}`,
          `web_mqtt.tcp.ip = 127.0.0.1`,
          `web_mqtt.tcp.port = ${node.webMqttPort}`,
          'mqtt.allow_anonymous = false',
          `mqtt.vhost = ${DISTRICT_VHOST}`,
          'mqtt.exchange = amq.topic',
          // 3.10 offers classic|quorum for the queues of persistent (clean: false) MQTT sessions.
          'mqtt.durable_queue_type = quorum',
          // A small test machine: no disk alarm at the default 50 MB free, no memory alarm at 40 %.
          'disk_free_limit.absolute = 10MB',
          'vm_memory_high_watermark.relative = 0.8',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      nodes.push(node);
    }
    const c = new RabbitCluster(dir, home, nodes, opts.bootTimeoutMs ?? 120_000);
    liveClusters.add(c);
    try {
      for (const node of nodes) await c.cli(node, 'rabbitmq-plugins', ['--offline', 'enable', 'rabbitmq_mqtt', 'rabbitmq_web_mqtt']);
      for (const node of nodes) c.spawnNode(node);
      for (const node of nodes) await c.awaitStartup(node);
      for (const node of nodes.slice(1)) {
        await c.ctl(node, ['stop_app']);
        await c.ctl(node, ['join_cluster', nodes[0]!.name]);
        await c.ctl(node, ['start_app']);
      }
      const running = await c.runningNodes();
      if (running.length !== n) throw new Error(`cluster formed with ${running.length} of ${n} nodes running: ${running.join(', ')}`);
      await c.importDefinitions({
        vhosts: [{ name: DISTRICT_VHOST }],
        users: [{ name: c.platformUser, password_hash: rabbitPasswordHash(c.platformPassword), tags: '' }],
        permissions: [
          // The platform reads its queues over AMQP and may watch retained status over MQTT (its own subscription queues).
          {
            user: c.platformUser,
            vhost: DISTRICT_VHOST,
            configure: '^(district\\..*|mqtt-subscription-platform.*)$',
            write: '^(district\\..*|amq\\.topic|mqtt-subscription-platform.*)$',
            read: '^(district\\..*|amq\\.topic|mqtt-subscription-platform.*)$',
          },
        ],
        queues: [{ name: EVENTS_QUEUE, vhost: DISTRICT_VHOST, durable: true, auto_delete: false, arguments: { 'x-queue-type': 'quorum' } }],
        bindings: [
          {
            source: 'amq.topic',
            vhost: DISTRICT_VHOST,
            destination: EVENTS_QUEUE,
            destination_type: 'queue',
            routing_key: EVENTS_BINDING,
            arguments: {},
          },
        ],
      });
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** One user per box, allowed only its own topics and its own MQTT subscription queues. */
  async addBoxes(boxes: BoxCredentials[]): Promise<void> {
    const users = boxes.map((b) => ({ name: b.username, password_hash: rabbitPasswordHash(b.password), tags: '' }));
    const permissions = boxes.map((b) => {
      const own = `mqtt-subscription-${esc(b.clientId)}qos[01]`;
      return {
        user: b.username,
        vhost: DISTRICT_VHOST,
        configure: `^${own}$`,
        write: `^(amq\\.topic|${own})$`,
        read: `^(amq\\.topic|${own})$`,
      };
    });
    // Topic permissions are matched against the AMQP routing key: MQTT `/` is `.` there.
    const topic_permissions = boxes.map((b) => {
      const root = `^gatehouse\\.v1\\.${esc(b.compound)}\\.${esc(b.gateway)}\\.`;
      return { user: b.username, vhost: DISTRICT_VHOST, exchange: 'amq.topic', write: root, read: `${root}cmd\\.` };
    });
    await this.importDefinitions({ users, permissions, topic_permissions });
  }

  mqttUrls(): string[] {
    return this.nodes.map((n) => `mqtt://127.0.0.1:${n.mqttPort}`);
  }

  webMqttUrls(): string[] {
    return this.nodes.map((n) => `ws://127.0.0.1:${n.webMqttPort}/ws`);
  }

  /** AMQP 0-9-1 URL of node `i` (0-based) for the platform user. */
  amqpUrl(i: number): string {
    const n = this.nodes[i]!;
    return `amqp://${this.platformUser}:${this.platformPassword}@127.0.0.1:${n.amqpPort}/${DISTRICT_VHOST}`;
  }

  /** SIGKILL the node's whole process group (the start script, beam, its port programs). */
  kill(i: number): void {
    const p = this.nodes[i]!.proc;
    if (p?.pid && p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  /** Starts a stopped or killed node again on its data dir and waits until it runs in the cluster. */
  async restart(i: number): Promise<void> {
    const node = this.nodes[i]!;
    await waitExit(node.proc, 10_000);
    this.spawnNode(node);
    await this.awaitStartup(node);
  }

  /** The cluster's running nodes as node 1 (or the first live node) sees them. */
  async runningNodes(via = this.live()): Promise<string[]> {
    if (!via) return [];
    const out = await this.ctl(via, ['cluster_status', '--formatter', 'json']);
    const status = JSON.parse(out) as { running_nodes: string[] };
    return status.running_nodes;
  }

  /** Queue depth and unacked count of a queue, as `rabbitmqctl list_queues` reports them. */
  async queueInfo(name = EVENTS_QUEUE, via?: RabbitNode): Promise<{ messages: number; unacked: number; type: string }> {
    const node = via ?? this.live()!;
    const out = await this.ctl(node, [
      'list_queues',
      '-p',
      DISTRICT_VHOST,
      'name',
      'messages',
      'messages_unacknowledged',
      'type',
      '--formatter',
      'json',
    ]);
    const rows = JSON.parse(out) as { name: string; messages: number; messages_unacknowledged: number; type: string }[];
    const q = rows.find((r) => r.name === name);
    if (!q) throw new Error(`queue ${name} does not exist on ${node.name}`);
    return { messages: q.messages, unacked: q.messages_unacknowledged, type: q.type };
  }

  /**
   * Deliveries the broker has handed to the AMQP connection named `connectionName` (the
   * client's `connection_name` property) and not yet had acknowledged, over all its channels.
   * Asks the broker, not the client, so it works on a client that is stopped.
   */
  async unackedOf(connectionName: string, via?: RabbitNode): Promise<number> {
    const node = via ?? this.live()!;
    const conns = JSON.parse(
      await this.ctl(node, ['list_connections', '-p', DISTRICT_VHOST, 'pid', 'client_properties', '--formatter', 'json']),
    ) as { pid: string; client_properties: [string, string, unknown][] }[];
    const pids = new Set(
      conns.filter((c) => c.client_properties.some(([k, , v]) => k === 'connection_name' && v === connectionName)).map((c) => c.pid),
    );
    const channels = JSON.parse(
      await this.ctl(node, ['list_channels', '-p', DISTRICT_VHOST, 'connection', 'messages_unacknowledged', '--formatter', 'json']),
    ) as { connection: string; messages_unacknowledged: number }[];
    return channels.filter((c) => pids.has(c.connection)).reduce((n, c) => n + c.messages_unacknowledged, 0);
  }

  /** A node whose process is running (not necessarily booted). */
  live(): RabbitNode | undefined {
    return this.nodes.find((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
  }

  ctl(node: RabbitNode, args: string[]): Promise<string> {
    return this.cli(node, 'rabbitmqctl', ['-n', node.name, ...args]);
  }

  async importDefinitions(defs: Record<string, unknown>): Promise<void> {
    const file = join(this.dir, `definitions-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(defs), { mode: 0o600 });
    try {
      await this.ctl(this.live()!, ['import_definitions', file]);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async stop(): Promise<void> {
    liveClusters.delete(this);
    for (const n of this.nodes) {
      const p = n.proc;
      if (p?.pid && p.exitCode === null && p.signalCode === null) {
        try {
          process.kill(-p.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
    }
    for (const n of this.nodes) {
      if (!(await waitExit(n.proc, 20_000))) {
        try {
          process.kill(-n.proc!.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        await waitExit(n.proc, 5_000);
      }
    }
    // GATEHOUSE_KEEP_RABBIT=1 keeps the data and log dirs to look at after a failure.
    if (process.env.GATEHOUSE_KEEP_RABBIT !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  private env(node: RabbitNode): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: this.home,
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_CONF_ENV_FILE: join(node.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(node.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(node.dir, 'log'),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(node.dir, 'plugins-expand'),
      RABBITMQ_NODE_PORT: String(node.amqpPort),
      RABBITMQ_DIST_PORT: String(node.distPort),
      RABBITMQ_LOGS: '-',
      // Erlang distribution on loopback only.
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  private cli(node: RabbitNode, tool: string, args: string[], timeoutMs = 120_000): Promise<string> {
    // Asynchronous on purpose: a blocked event loop would also block whatever else the test runs.
    return new Promise((resolve, reject) => {
      execFile(join(RABBIT_SBIN, tool), args, { env: this.env(node), encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${tool} ${args.join(' ')} on ${node.name} failed: ${err.message}\n${stderr || stdout}\n${this.logTail(node)}`));
        else resolve(stdout);
      });
    });
  }

  private logFile(node: RabbitNode): string {
    return join(node.dir, 'node.log');
  }

  /** The end of a node's log, for a failure message. */
  logTail(node: RabbitNode, chars = 4000): string {
    try {
      return `--- ${node.name} log:\n${readFileSync(this.logFile(node), 'utf8').slice(-chars)}`;
    } catch {
      return `--- ${node.name}: no log`;
    }
  }

  private spawnNode(node: RabbitNode): void {
    // The node logs to a file, not a pipe: a pipe nobody reads fills up and stalls the node.
    const fd = openSync(this.logFile(node), 'a', 0o600);
    // detached: its own process group, so kill() reaches beam and not just the start script.
    node.proc = spawn(join(RABBIT_SBIN, 'rabbitmq-server'), [], { env: this.env(node), detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
  }

  private async awaitStartup(node: RabbitNode): Promise<void> {
    const deadline = Date.now() + this.bootTimeoutMs;
    for (;;) {
      const p = node.proc!;
      if (p.exitCode !== null || p.signalCode !== null) {
        throw new Error(`RabbitMQ node ${node.name} exited during boot (${p.exitCode ?? p.signalCode}):\n${this.logTail(node)}`);
      }
      // await_startup fails at once while the node is not yet registered with epmd: poll.
      const ok = await this.cli(node, 'rabbitmqctl', ['-n', node.name, 'await_startup', '--timeout', '30'], 40_000).then(
        () => true,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`RabbitMQ node ${node.name} did not start in ${this.bootTimeoutMs} ms:\n${this.logTail(node)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }
}

function waitExit(p: ChildProcess | undefined, ms: number): Promise<boolean> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}
