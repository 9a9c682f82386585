/**
 * OSDP payload codecs, both directions (the CP encodes commands and decodes replies, the
 * simulated PD does the opposite). Commands live in messages-commands.ts, replies in
 * messages-replies.ts; this module is the one place to import them from.
 *
 * Decoders throw GatehouseError('DEVICE_PROTOCOL', ...) on malformed data and nothing else;
 * encoders throw GatehouseError('CMD_INVALID', ...) on values the message cannot carry.
 */
export * from './messages-commands.js';
export * from './messages-replies.js';
