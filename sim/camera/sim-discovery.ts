/**
 * WS-Discovery target service of the simulated camera: listens on UDP 3702 (or a chosen
 * port) for multicast Probes to 239.255.255.250 and answers each with a ProbeMatch sent by
 * unicast to the prober's own address and port, as WS-Discovery says. Several simulated
 * cameras (and several test processes) can share port 3702: the socket reuses the address
 * and multicast is delivered to every member of the group.
 */
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { escapeXml, textOf } from './soap.js';

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoveryOptions {
  /** UDP port to listen on; default 3702. 0 picks a free port (unicast-only tests). */
  port?: number;
  /** Local IPv4 address of the interface to join the group on; default: the system's choice. */
  interface?: string;
  /** Join the multicast group; default true. */
  multicast?: boolean;
}

export interface DiscoveryIdentity {
  endpoint: string;
  xaddr: () => string;
  scopes: () => string[];
  online: () => boolean;
}

export class DiscoveryResponder {
  private socket: dgram.Socket | undefined;
  port = 0;
  /** Probes answered, for tests. */
  answered = 0;

  constructor(
    private readonly identity: DiscoveryIdentity,
    private readonly opts: DiscoveryOptions = {},
  ) {}

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    // A stray ICMP error or a bad datagram must not take the simulator down.
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.port ?? WS_DISCOVERY_PORT, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.port = socket.address().port;
    if (this.opts.multicast !== false) {
      socket.addMembership(WS_DISCOVERY_GROUP, this.opts.interface);
      socket.setMulticastLoopback(true);
    }
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.identity.online() || msg.length > 65_000) return;
    const xml = msg.toString('utf8');
    if (!/<(?:[\w.-]+:)?Probe[\s>/]/.test(xml)) return;
    // A Probe for other device types is not ours to answer (an empty Types matches all).
    const types = textOf(xml, 'Types');
    if (types && !/NetworkVideoTransmitter|Device\b/.test(types)) return;
    const relatesTo = textOf(xml, 'MessageID') ?? '';
    const reply = Buffer.from(this.probeMatch(relatesTo));
    this.socket?.send(reply, rinfo.port, rinfo.address, () => undefined);
    this.answered++;
  }

  private probeMatch(relatesTo: string): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
      'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" ' +
      // Types is a list of QNames: every prefix in it must be declared.
      'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
      '<SOAP-ENV:Header>' +
      `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID><wsa:RelatesTo>${escapeXml(relatesTo)}</wsa:RelatesTo>` +
      '<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>' +
      '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>' +
      '</SOAP-ENV:Header><SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>' +
      `<wsa:EndpointReference><wsa:Address>${escapeXml(this.identity.endpoint)}</wsa:Address></wsa:EndpointReference>` +
      '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
      `<d:Scopes>${escapeXml(this.identity.scopes().join(' '))}</d:Scopes>` +
      `<d:XAddrs>${escapeXml(this.identity.xaddr())}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
      '</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>'
    );
  }
}
