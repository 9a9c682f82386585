/**
 * Smart locks under load for the kill soak: MQTT clients of the gateway's embedded broker
 * speaking the locks' scheme with the simulator's codec (drivers/smartlock/codec.ts), each
 * publishing `unlock` events at QoS 1 and noting which ones the broker PUBACKed. A PUBACK is
 * the gateway's promise that the event is committed (lock-service.ts gates it on the
 * record), so every noted event must reach the platform. sim/smartlock's SimLock publishes
 * fire-and-forget, so it cannot say which events were acknowledged: hence this thin client.
 *
 * Each event is a granted card unlock whose card number ends in the lock's event counter:
 * the platform sees `credential: "****NNNN"` (the driver masks all but the last four), so
 * `lock/NNNN` names one event end to end. The counter persists across the gateway's lives.
 */
import mqtt from 'mqtt';
import { encodeEvent, encodeStatus } from '../../drivers/smartlock/codec.js';

/** Four visible digits per lock: the counter stops before it would wrap. */
export const MAX_EVENTS_PER_LOCK = 9999;

export interface LockLoad {
  /** `lock/counter` of every event the broker PUBACKed. */
  acked: Set<string>;
  /** Events published (PUBACKed or not). */
  sent: number;
  stop: () => Promise<void>;
}

/** The key the platform side derives from an access.granted event of these locks. */
export function lockEventKey(lock: string, credential: string): string {
  return `${lock}/${Number(credential.replace(/\D/g, ''))}`;
}

export function lockLoad(
  url: string,
  locks: { id: string; password: string }[],
  counters: Map<string, number>,
  acked: Set<string>,
): LockLoad {
  let running = true;
  const load: LockLoad = { acked, sent: 0, stop: async () => undefined };
  const clients = new Set<mqtt.MqttClient>();
  const one = async (id: string, password: string): Promise<void> => {
    // No reconnect: the broker dies with the gateway; the next life connects again.
    const options = { clientId: id, username: id, password, clean: true, reconnectPeriod: 0, connectTimeout: 3000 };
    const client = await mqtt.connectAsync(url, options).catch(() => undefined);
    if (!client) return;
    clients.add(client);
    client.on('error', () => undefined);
    try {
      const status = encodeStatus(id, { state: 'online', fw: 'soak-1' });
      if (
        !(await client.publishAsync(status.topic, status.payload, { qos: 1, retain: true }).then(
          () => true,
          () => false,
        ))
      )
        return;
      while (running && client.connected) {
        const n = (counters.get(id) ?? 0) + 1;
        if (n > MAX_EVENTS_PER_LOCK) break;
        counters.set(id, n);
        const credential = `7700${String(n).padStart(4, '0')}`;
        const e = encodeEvent(id, {
          eid: `${id}-${n}`,
          ts: new Date().toISOString(),
          type: 'unlock',
          result: 'granted',
          method: 'card',
          credential,
        });
        load.sent++;
        const ok = await client.publishAsync(e.topic, e.payload, { qos: 1 }).then(
          () => true,
          () => false,
        );
        if (ok) acked.add(`${id}/${n}`);
        await new Promise((r) => setTimeout(r, 15));
      }
    } finally {
      client.end(true);
    }
  };
  const loops = Promise.all(locks.map((l) => one(l.id, l.password)));
  load.stop = async () => {
    running = false;
    // A publish in flight when the broker died is never answered: closing fails it (not PUBACKed, not noted).
    for (const c of clients) c.end(true);
    await loops;
  };
  return load;
}
