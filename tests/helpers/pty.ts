/**
 * The socat pseudo-terminal pair for serial tests; it lives in sim/cabinet/pty.ts because
 * `gatehouse sim` needs it too. Throws with install instructions when socat is missing.
 */
export { createPtyPair, requireSocat, SOCAT_BIN, type PtyPair } from '../../sim/cabinet/pty.js';
