/**
 * When a configuration on probation counts as healthy (gateway/remote-config/health.ts):
 * each of the three conditions alone keeps it on probation, and a device the new file no
 * longer configures is not waited for.
 */
import { describe, expect, it } from 'vitest';
import { healthProblems, type Health } from '../../gateway/remote-config/health.js';

const healthy: Health = {
  failed: {},
  uplink: { connected: true, lastError: null },
  devices: [
    { device: 'flat-1', announced: true },
    { device: 'gate-cam', announced: true },
  ],
};

describe('probation health', () => {
  it('is healthy with every component started, the uplink connected and the devices answering again', () => {
    expect(healthProblems(healthy, ['flat-1', 'gate-cam'])).toEqual([]);
  });

  it('names a failed component, a disconnected uplink with its last error, and each silent device', () => {
    expect(healthProblems({ ...healthy, failed: { cameras: 'ffmpeg missing' } }, [])).toEqual([
      'components failed: cameras (ffmpeg missing)',
    ]);
    expect(healthProblems({ ...healthy, uplink: { connected: false, lastError: 'ECONNREFUSED' } }, [])).toEqual([
      'uplink not connected (ECONNREFUSED)',
    ]);
    const devices = [
      { device: 'flat-1', announced: false },
      { device: 'gate-cam', announced: null },
    ];
    expect(healthProblems({ ...healthy, devices }, ['flat-1', 'gate-cam'])).toEqual(['devices not answering as before: flat-1, gate-cam']);
  });

  it('does not wait for a device the new file removed, nor for an uplink when none is configured', () => {
    expect(healthProblems({ ...healthy, devices: [{ device: 'flat-1', announced: true }] }, ['flat-1', 'old-lock'])).toEqual([]);
    expect(healthProblems({ ...healthy, uplink: undefined }, [])).toEqual([]);
  });

  it('a device that was silent before the change is not required to answer after it', () => {
    expect(healthProblems({ ...healthy, devices: [{ device: 'flat-1', announced: false }] }, [])).toEqual([]);
  });
});
