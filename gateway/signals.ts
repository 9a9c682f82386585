/**
 * Waiting for the stop signal, shared by `gatehouse run` (cli.ts) and `gatehouse demo`
 * (demo.ts). It lives apart from both so the demo does not import the CLI that imports it.
 */

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
