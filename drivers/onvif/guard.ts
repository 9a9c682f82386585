/**
 * A guard in front of the `onvif` package's XML handling. The package buffers a whole
 * response in memory and hands it to xml2js, so a hostile or broken camera could send a
 * gigabyte, a DTD with entity declarations (billion laughs), or XML that is not SOAP at
 * all. We refuse those before the package sees them, with DEVICE_RESPONSE_REFUSED:
 *
 * - size: every HTTP connection the package opens goes through GuardedAgent, which counts
 *   the bytes received and cuts the socket past `maxResponseBytes` (so nothing large is
 *   ever buffered);
 * - DTD/entities: the same agent scans the stream for `<!DOCTYPE` / `<!ENTITY` and cuts
 *   the socket; the text is checked again before parsing is trusted, since HTTP chunking
 *   could split the marker across chunk headers;
 * - namespace: the root element must be a SOAP 1.2 (or 1.1) Envelope.
 */
import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { GatehouseError } from '../../gateway/core/errors.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

const SOAP_NAMESPACES = ['http://www.w3.org/2003/05/soap-envelope', 'http://schemas.xmlsoap.org/soap/envelope/'];
const DTD_MARKER = /<!\s*(doctype|entity)/i;

export function refused(
  reason: 'too_large' | 'dtd' | 'namespace' | 'not_xml',
  detail: string,
  details: Record<string, unknown> = {},
): GatehouseError {
  return new GatehouseError('DEVICE_RESPONSE_REFUSED', `camera response refused: ${detail}`, { reason, ...details });
}

/** An http.Agent whose sockets refuse oversized or DTD-carrying responses while they arrive. */
export class GuardedAgent extends Agent {
  constructor(
    private readonly maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
    opts: AgentOptions = {},
  ) {
    // No keep-alive: one socket per request, so the byte count is per response.
    super({ ...opts, keepAlive: false });
  }

  override createConnection(options: ClientRequestArgs): Socket {
    const socket = createConnection(options as Parameters<typeof createConnection>[0]);
    let received = 0;
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > this.maxResponseBytes) {
        socket.destroy(refused('too_large', `more than ${this.maxResponseBytes} bytes`, { limit: this.maxResponseBytes }));
        return;
      }
      const text = tail + chunk.toString('latin1');
      if (DTD_MARKER.test(text)) {
        socket.destroy(refused('dtd', 'it declares a DTD or entities'));
        return;
      }
      tail = text.slice(-16);
    });
    return socket;
  }
}

/**
 * Checks a complete response text before its parse result is used. Returns the refusal,
 * or undefined when the text is acceptable SOAP.
 */
export function checkSoapText(xml: string, maxBytes = DEFAULT_MAX_RESPONSE_BYTES): GatehouseError | undefined {
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) return refused('too_large', `more than ${maxBytes} bytes`, { limit: maxBytes });
  if (DTD_MARKER.test(xml)) return refused('dtd', 'it declares a DTD or entities');
  const root = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<([\w.-]+:)?Envelope\b([^>]*)>/.exec(xml);
  if (!root) return refused('not_xml', 'it is not a SOAP envelope');
  const prefix = root[1] ? root[1].slice(0, -1) : '';
  const decl = new RegExp(`xmlns${prefix ? `:${prefix}` : ''}\\s*=\\s*["']([^"']*)["']`).exec(root[2] ?? '');
  const ns = decl?.[1];
  if (!ns || !SOAP_NAMESPACES.includes(ns))
    return refused('namespace', `its Envelope is in namespace ${JSON.stringify(ns ?? '')}, not SOAP`, { namespace: ns ?? null });
  return undefined;
}
