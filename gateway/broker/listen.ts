/** Binding the embedded broker's listeners (moved out of embedded-broker.ts). */
import type { Server } from 'node:net';
import { GatehouseError } from '../core/errors.js';

/** Listens and resolves with the bound port; a coded error says which address could not be had. */
export async function listen(server: Server, port: number, host: string, maxConnections: number): Promise<number> {
  server.maxConnections = maxConnections;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new GatehouseError('INTERNAL', `embedded broker cannot listen on ${host}:${port} (${code})`, { host, port }, { cause: err });
  }
  server.on('error', (err) => void err); // after listen, errors belong to single connections
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
