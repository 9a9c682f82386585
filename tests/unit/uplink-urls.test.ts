/**
 * `uplink.url` or `uplink.urls` (a broker cluster's nodes), exactly one of them, and the
 * comma-separated GATEHOUSE_UPLINK_URL: how the compound file and the environment name the
 * nodes the uplink tries in order.
 */
import { describe, expect, it } from 'vitest';
import { CompoundConfig, splitUplinkUrls, UplinkConfig, uplinkUrls } from '../../config/schema.js';
import { requiredComponents } from '../../gateway/required-components.js';

const base = { compound: { id: 'c' }, gateway: { id: 'g' } };

describe('uplink.url / uplink.urls', () => {
  it('takes one URL or a list of nodes, in order', () => {
    expect(uplinkUrls(UplinkConfig.parse({ url: 'mqtt://a:1883' }))).toEqual(['mqtt://a:1883']);
    const cluster = UplinkConfig.parse({ urls: ['mqtts://n1:8883', 'mqtts://n2:8883', 'wss://n3/mqtt'] });
    expect(uplinkUrls(cluster)).toEqual(['mqtts://n1:8883', 'mqtts://n2:8883', 'wss://n3/mqtt']);
    expect(cluster.sessionResumeMs).toBe(60_000);
  });

  it('refuses both, neither, an empty list and a comma inside a URL, naming the key', () => {
    const issues = (uplink: unknown) => {
      const r = CompoundConfig.safeParse({ ...base, uplink });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ url: 'mqtt://a', urls: ['mqtt://b'] })).toEqual(['uplink.urls: give exactly one of url or urls']);
    expect(issues({})).toEqual(['uplink.url: give exactly one of url or urls']);
    expect(issues({ urls: [] })[0]).toMatch(/^uplink\.urls: /);
    expect(issues({ url: 'mqtt://a,mqtt://b' })[0]).toMatch(/^uplink\.url: must be an mqtt/);
    expect(issues({ urls: ['mqtt://a', 'http://b'] })[0]).toMatch(/^uplink\.urls\.1: must be an mqtt/);
  });

  it('reads GATEHOUSE_UPLINK_URL as a comma-separated list, and any list makes the uplink required', () => {
    expect(splitUplinkUrls('mqtt://a:1883')).toEqual(['mqtt://a:1883']);
    expect(splitUplinkUrls(' mqtt://a:1883, mqtt://b:1883 ,,')).toEqual(['mqtt://a:1883', 'mqtt://b:1883']);
    const config = CompoundConfig.parse({ ...base, uplink: { urls: ['mqtt://u:p@n1:1883', 'mqtt://n2:1883'] } });
    expect(requiredComponents(config, {}).get('uplink')).toBe(
      'the compound file configures a platform (mqtt://u:***@n1:1883, mqtt://n2:1883)',
    );
    expect(requiredComponents(CompoundConfig.parse(base), { uplinkUrl: 'mqtt://x:1,mqtt://y:2' }).get('uplink')).toBe(
      'the compound file configures a platform (mqtt://x:1, mqtt://y:2)',
    );
  });
});
