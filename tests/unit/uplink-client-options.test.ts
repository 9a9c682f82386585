/**
 * Issue 18: the uplink's MQTT.js client gets a no-op logger, because MQTT.js's default
 * (`debug`) allocates an argument array on every call even when disabled, several times per
 * publish and PUBACK. Asking for MQTT.js's debug output (DEBUG=mqttjs*) still gets it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UplinkConfig } from '../../config/schema.js';
import { buildClientOptions } from '../../gateway/uplink/client-options.js';

describe('uplink MQTT.js client options', () => {
  const saved = process.env.DEBUG;
  afterEach(() => {
    if (saved === undefined) delete process.env.DEBUG;
    else process.env.DEBUG = saved;
  });
  const cfg = UplinkConfig.parse({ url: 'mqtt://127.0.0.1:1883' });

  it('passes a no-op logger unless MQTT.js debug output was asked for', () => {
    delete process.env.DEBUG;
    const quiet = buildClientOptions(cfg, undefined, 'gw-1', undefined);
    expect(typeof quiet.log).toBe('function');
    expect(quiet.log!('publish :: message %s to topic %s', 'x', 'y')).toBeUndefined();
    process.env.DEBUG = 'gatehouse,mqttjs*';
    expect(buildClientOptions(cfg, undefined, 'gw-1', undefined).log).toBeUndefined();
  });
});
