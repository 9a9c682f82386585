/** SIA DC-09 codec: pure, no I/O. */
export * from './crc.js';
export * from './frame.js';
export * from './cipher.js';
export * from './message.js';
export * from './events.js';
export * from './payload.js';
export * from './deframer.js';
export * from './xdata.js';
