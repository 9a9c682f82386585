/**
 * ONVIF notification messages (as the `onvif` package parses them) normalised to what the
 * gateway cares about. Topic prefixes are the camera's choice (`tns1:` usually), so only
 * the path after each prefix is compared. Topics we do not know are ignored, not errors:
 * cameras send plenty (fan, storage, analytics heartbeats).
 */
export type CameraEventKind = 'motion' | 'tamper' | 'input' | 'line' | 'field';

export interface CameraEvent {
  kind: CameraEventKind;
  /** The condition holds (motion seen, tamper, input closed, object inside); always true for a line crossing. */
  active: boolean;
  /** Gateway wall-clock ms, corrected for the camera's clock skew. */
  at: number;
  /** Input token, rule name or video source, when the camera names one. */
  point?: string;
  /** The initial state sent when a subscription starts (`PropertyOperation="Initialized"`). */
  initial: boolean;
  /** A one-shot event with no "gone" to follow (line crossing). */
  momentary: boolean;
}

interface Rule {
  kind: CameraEventKind;
  /** Data item carrying the state. */
  item: string;
  /** Source item naming the point. */
  point?: string;
  momentary?: boolean;
}

const RULES: Record<string, Rule> = {
  'RuleEngine/CellMotionDetector/Motion': { kind: 'motion', item: 'IsMotion', point: 'Rule' },
  'VideoSource/MotionAlarm': { kind: 'motion', item: 'State', point: 'Source' },
  'VideoSource/GlobalSceneChange/ImagingService': { kind: 'tamper', item: 'State', point: 'Source' },
  'VideoSource/GlobalSceneChange/AnalyticsService': { kind: 'tamper', item: 'State', point: 'Source' },
  'RuleEngine/TamperDetector/Tamper': { kind: 'tamper', item: 'IsTamper', point: 'Rule' },
  'Device/Trigger/DigitalInput': { kind: 'input', item: 'LogicalState', point: 'InputToken' },
  'RuleEngine/LineDetector/Crossed': { kind: 'line', item: 'ObjectId', point: 'Rule', momentary: true },
  'RuleEngine/FieldDetector/ObjectsInside': { kind: 'field', item: 'IsInside', point: 'Rule' },
};

type Items = Record<string, unknown>;

function simpleItems(node: unknown): Items {
  const out: Items = {};
  const list = (node as { simpleItem?: unknown } | undefined)?.simpleItem;
  for (const it of Array.isArray(list) ? list : list === undefined ? [] : [list]) {
    const a = (it as { $?: { Name?: unknown; Value?: unknown } })?.$;
    if (a && typeof a.Name === 'string') out[a.Name] = a.Value;
  }
  return out;
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && /^(true|1|active|on)$/i.test(v));
}

/** Strips `tns1:` style prefixes from every segment: `tns1:RuleEngine/tnsaxis:X` → `RuleEngine/X`. */
export function topicPath(topic: string): string {
  return topic
    .trim()
    .split('/')
    .map((seg) => seg.replace(/^[\w.-]*:/, ''))
    .join('/');
}

/**
 * One parsed NotificationMessage → CameraEvent, or undefined for topics we ignore.
 * `skewMs` is camera clock minus ours; `now` is our wall clock, used when the camera
 * gives no time and to keep a skewed camera from dating events in our future.
 */
export function normaliseNotification(message: unknown, skewMs: number, now: number): CameraEvent | undefined {
  const m = message as {
    topic?: { _?: unknown } | string;
    message?: { message?: { $?: { UtcTime?: unknown; PropertyOperation?: unknown }; source?: unknown; data?: unknown } };
  };
  const rawTopic = typeof m?.topic === 'string' ? m.topic : m?.topic?._;
  if (typeof rawTopic !== 'string') return undefined;
  const rule = RULES[topicPath(rawTopic)];
  if (!rule) return undefined;
  const inner = m.message?.message;
  const data = simpleItems(inner?.data);
  const source = simpleItems(inner?.source);
  if (!rule.momentary && !(rule.item in data)) return undefined;
  const utc = inner?.$?.UtcTime;
  const cameraAt = utc instanceof Date ? utc.getTime() : typeof utc === 'string' ? Date.parse(utc) : NaN;
  const at = Number.isFinite(cameraAt) ? Math.min(now, cameraAt - skewMs) : now;
  const point = rule.point && source[rule.point] !== undefined ? String(source[rule.point]) : undefined;
  return {
    kind: rule.kind,
    active: rule.momentary ? true : truthy(data[rule.item]),
    at,
    ...(point !== undefined ? { point } : {}),
    initial: inner?.$?.PropertyOperation === 'Initialized',
    momentary: rule.momentary ?? false,
  };
}
