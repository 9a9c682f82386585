/** Process signals for the long-running commands (run, demo, sim). */

/** Resolves on the first SIGINT/SIGTERM; a second one forces exit. */
export function untilSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    let stopping = false;
    const handler = (sig: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      resolveSignal(sig);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
