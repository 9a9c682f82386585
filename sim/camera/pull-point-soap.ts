/**
 * The simulated camera's WS-BaseNotification pull-point calls over SOAP: creating a
 * subscription, and PullMessages, Renew and Unsubscribe on one. Termination times are
 * durations or absolute times on the camera's own (skewed) clock.
 */
import { envelope, fault, parseDuration, textOf } from './soap.js';
import { notificationXml, type PullPointManager, type SimNotification } from './sim-events.js';

export interface PullPointHost {
  pullPoints: PullPointManager;
  /** The camera's own clock. */
  now: () => number;
  /** The camera's HTTP base URL, for subscription addresses. */
  base: string;
}

function ttl(h: PullPointHost, xml: string, local: string): number {
  const raw = textOf(xml, local);
  const asDuration = parseDuration(raw);
  if (asDuration !== undefined) return asDuration;
  const asTime = raw ? Date.parse(raw) : NaN;
  return Number.isFinite(asTime) ? Math.max(0, asTime - h.now()) : 60_000;
}

/** CreatePullPointSubscription: a new subscription holding the current state of every property. */
export function createPullPoint(h: PullPointHost, xml: string, initialState: () => SimNotification[]): string {
  const now = h.now();
  const sub = h.pullPoints.create(now, ttl(h, xml, 'InitialTerminationTime'), initialState());
  return (
    '<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>' +
    `<wsa:Address>${h.base}/onvif/events/sub/${sub.id}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${new Date(now).toISOString()}</wsnt:CurrentTime><wsnt:TerminationTime>${new Date(sub.terminationTime).toISOString()}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

/** PullMessages, Renew and Unsubscribe on the subscription the URL names. */
export async function subscriptionCall(h: PullPointHost, action: string, url: string, xml: string): Promise<[number, string]> {
  const id = Number(/^\/onvif\/events\/sub\/(\d+)$/.exec(url)?.[1]);
  const sub = Number.isFinite(id) ? h.pullPoints.get(id, h.now()) : undefined;
  if (!sub) return [400, fault('Sender', 'wsrf-rw:ResourceUnknownFault', 'No such subscription')];
  const times = () =>
    `<wsnt:CurrentTime>${new Date(h.now()).toISOString()}</wsnt:CurrentTime><wsnt:TerminationTime>${new Date(sub.terminationTime).toISOString()}</wsnt:TerminationTime>`;
  if (action === 'Unsubscribe') {
    h.pullPoints.remove(id);
    return [200, envelope('<wsnt:UnsubscribeResponse/>')];
  }
  if (action === 'Renew') {
    h.pullPoints.renew(sub, h.now(), ttl(h, xml, 'TerminationTime'));
    // WS-BaseNotification (b-2.xsd) RenewResponse: TerminationTime first, then CurrentTime.
    const renewed =
      `<wsnt:TerminationTime>${new Date(sub.terminationTime).toISOString()}</wsnt:TerminationTime>` +
      `<wsnt:CurrentTime>${new Date(h.now()).toISOString()}</wsnt:CurrentTime>`;
    return [200, envelope(`<wsnt:RenewResponse>${renewed}</wsnt:RenewResponse>`)];
  }
  const limit = Math.max(1, Math.min(1000, Number(textOf(xml, 'MessageLimit') ?? 10) || 10));
  const msgs = await h.pullPoints.pull(sub, parseDuration(textOf(xml, 'Timeout')) ?? 0, limit);
  return [
    200,
    envelope(
      `<tev:PullMessagesResponse>${times().replace(/wsnt:(Current|Termination)Time/g, 'tev:$1Time')}${msgs.map(notificationXml).join('')}</tev:PullMessagesResponse>`,
    ),
  ];
}
