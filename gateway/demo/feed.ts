/**
 * The demo's feed: what the platform would receive, printed one line a message, read from the
 * embedded broker or (when forwarding to a platform) from the outbox as it commits.
 */
import type { Gateway } from '../app.js';
import { redactUrl } from '../uplink/connection.js';

/** The feed as the outbox records it (what the uplink forwards); returns the unsubscribe. */
export function watchOutbox(gateway: Gateway): () => void {
  // The class is the row's, not the envelope's (it names the topic); read right after the commit.
  const onRecorded = (envelopes: { seq: number }[]) => {
    for (const e of envelopes)
      printMessage(`evt/${String(gateway.outbox.eventClasses(e.seq, e.seq).get(e.seq) ?? '?')}`, Buffer.from(JSON.stringify(e)));
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
export function platformTarget(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'mqtts:' ? '8883' : '1883');
    return `-h ${u.hostname} -p ${port}${u.username ? ` -u '${decodeURIComponent(u.username)}' -P '…'` : ''}${u.protocol === 'mqtts:' ? ' --capath /etc/ssl/certs' : ''}`;
  } catch {
    return `-L '${redactUrl(url)}'`;
  }
}

export function printMessage(topic: string, payload: Buffer): void {
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
