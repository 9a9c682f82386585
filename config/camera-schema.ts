/**
 * Cameras (issue 6): ONVIF devices with RTSP streams, snapshots attached to alarms, and
 * live view relayed to the console.
 */
import { z } from 'zod';
import { Duration, Id } from './common.js';

export const CameraConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    /** ONVIF device service host (IP or name) and HTTP port. */
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(80),
    /** ONVIF device service path. */
    path: z.string().startsWith('/').default('/onvif/device_service'),
    username: z.string().min(1).max(64),
    /** Secret holding the password; default `cameras.{id}`. */
    passwordSecret: z.string().min(1).optional(),
    /** Media profile token to use; default: the first profile the camera lists. */
    profile: z.string().min(1).max(64).optional(),
    /** Subscribe to the camera's events (motion, tamper, inputs, line/field detection). */
    events: z.boolean().default(true),
    /** A camera unreachable this long is reported offline. */
    offlineAfterMs: Duration.min(1000).default(30_000),
  })
  .strict();

export const MediaConfig = z
  .object({
    /** On-disk cap of stored snapshots; the oldest are removed first. */
    maxBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(512 * 1024 * 1024),
    /** A snapshot larger than this is refused (a hostile camera cannot fill the disk in one go). */
    maxSnapshotBytes: z
      .number()
      .int()
      .min(16 * 1024)
      .default(5 * 1024 * 1024),
    /** A snapshot must arrive within this time after the alarm. */
    snapshotTimeoutMs: Duration.min(100).max(30_000).default(3000),
  })
  .strict();

export const LiveViewConfig = z
  .object({
    /** ffmpeg binary used to transcode RTSP to MPEG-1 for the browser (JSMpeg). */
    ffmpegPath: z.string().default('/usr/bin/ffmpeg'),
    /** Keep a stream running this long after its last viewer leaves (zapping back is instant). */
    lingerMs: Duration.max(300_000).default(10_000),
    /** Viewers per camera stream and streams at once: the Pi's CPU is the limit. */
    maxViewersPerCamera: z.number().int().min(1).max(50).default(8),
    maxStreams: z.number().int().min(1).max(16).default(4),
    /** Output size and rate of the MPEG-1 stream. */
    width: z.number().int().min(160).max(1920).default(640),
    fps: z.number().int().min(1).max(30).default(15),
    bitrateKbps: z.number().int().min(100).max(8000).default(800),
    /** RTSP transport to the cameras: tcp (interleaved) survives NAT and lossy links; some servers only speak udp. */
    rtspTransport: z.enum(['tcp', 'udp']).default('tcp'),
  })
  .strict();

export type CameraConfig = z.infer<typeof CameraConfig>;
export type MediaConfig = z.infer<typeof MediaConfig>;
export type LiveViewConfig = z.infer<typeof LiveViewConfig>;

/** The local web console (issue 7): guards watch alarms, video, doors, zones and charging. */
export const ConsoleConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Loopback by default: serving the compound LAN (a guard's tablet) is the installer's decision. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8443),
    /** TLS with these PEM files, or a self-signed certificate generated on first start (kept in the data dir). */
    tls: z
      .object({ enabled: z.boolean().default(true), certFile: z.string().optional(), keyFile: z.string().optional() })
      .strict()
      .prefault({}),
    /** Idle sessions end after this long; a session never outlives `sessionMaxHours`. */
    sessionIdleMin: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(120),
    sessionMaxHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 14)
      .default(12),
    /**
     * Login attempts that did not succeed, per address, before that address waits
     * `loginLockoutMin`. Accounts are never locked: each failure past the third doubles a
     * delay before the account's next attempt, up to `loginAccountDelayMaxS` (an address that
     * signed in to the account before skips it, so an attacker cannot lock a guard out).
     */
    loginMaxFailures: z.number().int().min(3).max(50).default(5),
    loginLockoutMin: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    loginAccountDelayMaxS: z.number().int().min(1).max(3600).default(60),
    /** Password hashes (scrypt: ~100 ms of a core and 32 MiB each) running at once, and waiting; more are refused. */
    loginConcurrentHashes: z.number().int().min(1).max(16).default(2),
    loginHashQueue: z.number().int().min(0).max(256).default(16),
    /** Open connections in all and per client address (a tablet's video wall uses one per camera). */
    maxConnections: z.number().int().min(4).max(10_000).default(256),
    maxConnectionsPerAddress: z.number().int().min(2).max(1000).default(32),
    /** A connection that has not completed its TLS handshake (or sent its request headers) by then is closed. */
    handshakeTimeoutMs: z.number().int().min(1000).max(120_000).default(10_000),
  })
  .strict();
export type ConsoleConfig = z.infer<typeof ConsoleConfig>;

/** The password secret of a camera: the one place its default name is written. */
export const cameraPasswordSecret = (cam: Pick<CameraConfig, 'id' | 'passwordSecret'>): string => cam.passwordSecret ?? `cameras.${cam.id}`;
