/**
 * Configuration of the embedded broker's defences against a hostile LAN host and of its
 * TLS listener. Kept apart from schema.ts so the broker's knobs read as one idea.
 */
import { z } from 'zod';
import { Duration } from './common.js';

/** Sockets that have not logged in yet: the only kind an attacker without a password can hold. */
export const BrokerPendingConfig = z
  .object({
    /** A socket must send a valid CONNECT and log in within this time, or it is closed. */
    connectDeadlineMs: Duration.min(100).max(60_000).default(5000),
    /** Not-yet-logged-in sockets from one address; more are closed at once. */
    perAddress: z.number().int().min(1).max(1000).default(8),
    /** Not-yet-logged-in sockets in total; past this the oldest is closed to make room. */
    total: z.number().int().min(1).max(10_000).default(64),
  })
  .strict();

/** Growing delay (then refusal, per address) after failed logins; see auth-throttle.ts. */
export const BrokerAuthThrottleConfig = z
  .object({
    /** Failed logins answered without delay, per address and per username. */
    freeFailures: z.number().int().min(0).max(1_000_000).default(3),
    /** Delay after the free failures; doubles with each further failure. */
    baseDelayMs: Duration.min(1).default(250),
    /** Longest delay; an address that would wait longer is refused without a password check. */
    maxDelayMs: Duration.min(10).default(4000),
    /** Failures are forgotten this long after the last one. */
    forgetAfterMs: Duration.min(1000).default(15 * 60_000),
  })
  .strict();

/** A TLS listener beside the plain one: cards and PINs pushed to locks cross the LAN encrypted. */
export const BrokerTlsConfig = z
  .object({
    port: z.number().int().min(0).max(65535).default(8883),
    /** PEM certificate and key; both or neither. Without them a self-signed pair is generated in the data directory. */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** PEM CA that signs device client certificates: given, every TLS client must present one (mutual TLS). */
    caFile: z.string().min(1).optional(),
    /** Close the plain listener: only TLS clients. */
    only: z.boolean().default(false),
  })
  .strict()
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: 'broker.tls needs both certFile and keyFile, or neither (a self-signed pair is then generated)',
  });
