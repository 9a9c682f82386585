/**
 * Notification messages normalised to camera events: the XML the simulator sends, parsed by
 * the `onvif` package exactly as on the wire, and variants real cameras use (other topic
 * prefixes, several SimpleItems, no UtcTime, topics we ignore).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { normaliseNotification, topicPath } from '../../drivers/onvif/events.js';
import { notificationXml, type SimNotification } from '../../sim/camera/sim-events.js';
import { envelope } from '../../sim/camera/soap.js';

const require = createRequire(import.meta.url);
const { parseSOAPString, linerase } = require('onvif/lib/utils') as {
  parseSOAPString(xml: string, cb: (err: Error | null, data: unknown) => void, status: number): void;
  linerase(x: unknown): Record<string, unknown>;
};

/** One NotificationMessage as the package's pullMessages hands it over. */
function parsed(n: SimNotification): unknown {
  let out: unknown;
  parseSOAPString(
    envelope(`<tev:PullMessagesResponse>${notificationXml(n)}</tev:PullMessagesResponse>`),
    (err, data) => {
      if (err) throw err;
      out = (linerase(data).pullMessagesResponse as { notificationMessage: unknown }).notificationMessage;
    },
    200,
  );
  return out;
}

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const msg = (
  topic: string,
  data: SimNotification['data'],
  source: SimNotification['source'] = [],
  operation: SimNotification['operation'] = 'Changed',
  utcTime = NOW,
): SimNotification => ({ topic, utcTime, operation, source, data });

describe('normaliseNotification', () => {
  it('motion, tamper, digital input, line and field', () => {
    expect(
      normaliseNotification(
        parsed(msg('tns1:RuleEngine/CellMotionDetector/Motion', [{ name: 'IsMotion', value: 'true' }], [{ name: 'Rule', value: 'R1' }])),
        0,
        NOW,
      ),
    ).toEqual({ kind: 'motion', active: true, at: NOW, point: 'R1', initial: false, momentary: false });
    expect(
      normaliseNotification(
        parsed(
          msg(
            'tns1:VideoSource/GlobalSceneChange/ImagingService',
            [{ name: 'State', value: 'false' }],
            [{ name: 'Source', value: 'VS_1' }],
          ),
        ),
        0,
        NOW,
      ),
    ).toMatchObject({ kind: 'tamper', active: false, point: 'VS_1' });
    expect(
      normaliseNotification(
        parsed(msg('tns1:Device/Trigger/DigitalInput', [{ name: 'LogicalState', value: 'true' }], [{ name: 'InputToken', value: 'DI_2' }])),
        0,
        NOW,
      ),
    ).toMatchObject({ kind: 'input', active: true, point: 'DI_2' });
    expect(
      normaliseNotification(parsed(msg('tns1:RuleEngine/LineDetector/Crossed', [{ name: 'ObjectId', value: '15' }])), 0, NOW),
    ).toMatchObject({ kind: 'line', active: true, momentary: true });
    expect(
      normaliseNotification(parsed(msg('tns1:RuleEngine/FieldDetector/ObjectsInside', [{ name: 'IsInside', value: 'true' }])), 0, NOW),
    ).toMatchObject({ kind: 'field', active: true });
  });

  it('marks the initial state of a new subscription', () => {
    expect(
      normaliseNotification(
        parsed(msg('tns1:RuleEngine/CellMotionDetector/Motion', [{ name: 'IsMotion', value: 'false' }], [], 'Initialized')),
        0,
        NOW,
      ),
    ).toMatchObject({ initial: true, active: false });
  });

  it('corrects the camera clock skew and never dates an event in our future', () => {
    const fast = 5 * 60_000;
    expect(
      normaliseNotification(
        parsed(msg('tns1:Device/Trigger/DigitalInput', [{ name: 'LogicalState', value: 'true' }], [], 'Changed', NOW + fast - 2000)),
        fast,
        NOW,
      )!.at,
    ).toBe(NOW - 2000);
    // Skew measured wrongly (or a camera lying about time): clamp to now.
    expect(
      normaliseNotification(
        parsed(msg('tns1:Device/Trigger/DigitalInput', [{ name: 'LogicalState', value: 'true' }], [], 'Changed', NOW + 3_600_000)),
        0,
        NOW,
      )!.at,
    ).toBe(NOW);
  });

  it('accepts other topic prefixes and ignores topics it does not know', () => {
    expect(topicPath('tns1:RuleEngine/tnsaxis:X/y:Z')).toBe('RuleEngine/X/Z');
    expect(
      normaliseNotification(parsed(msg('ns0:RuleEngine/CellMotionDetector/Motion', [{ name: 'IsMotion', value: 'true' }])), 0, NOW),
    ).toMatchObject({ kind: 'motion' });
    expect(normaliseNotification(parsed(msg('tns1:Monitoring/ProcessorUsage', [{ name: 'Value', value: '12' }])), 0, NOW)).toBeUndefined();
    expect(normaliseNotification({ topic: 42 }, 0, NOW)).toBeUndefined();
    expect(normaliseNotification(undefined, 0, NOW)).toBeUndefined();
    // A state topic without its state item is not guessed at.
    expect(
      normaliseNotification(parsed(msg('tns1:RuleEngine/CellMotionDetector/Motion', [{ name: 'Other', value: 'true' }])), 0, NOW),
    ).toBeUndefined();
  });

  it('several data items, and no UtcTime', () => {
    const m = {
      topic: { _: 'tns1:RuleEngine/FieldDetector/ObjectsInside' },
      message: { message: { data: { simpleItem: [{ $: { Name: 'ObjectId', Value: 3 } }, { $: { Name: 'IsInside', Value: true } }] } } },
    };
    expect(normaliseNotification(m, 0, NOW)).toEqual({ kind: 'field', active: true, at: NOW, initial: false, momentary: false });
  });
});
