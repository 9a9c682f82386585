/**
 * Hostile SOAP: a small HTTP server in front of a simulated camera passes everything
 * through except one chosen operation, which it answers with something a broken or
 * malicious camera might send. The driver must refuse it with a coded error and carry on,
 * never crash or buffer without bound.
 */
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnvifCamera } from '../../drivers/onvif/client.js';
import { isGatehouseError, type GatehouseError } from '../../gateway/core/errors.js';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { cameraRig } from '../helpers/camera-rig.js';
import { waitFor } from '../helpers/wait.js';

type Hostile = { action: string; answer: (res: import('node:http').ServerResponse) => void } | undefined;

const SOAP = 'http://www.w3.org/2003/05/soap-envelope';
const laughs =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
  `<s:Envelope xmlns:s="${SOAP}"><s:Body><GetSystemDateAndTimeResponse>&lol3;</GetSystemDateAndTimeResponse></s:Body></s:Envelope>`;

describe('hostile camera responses', () => {
  let sim: SimulatedCamera;
  let proxy: Server;
  let port: number;
  let hostile: Hostile;

  beforeAll(async () => {
    sim = (
      await startSimulatedCameras([{ id: 'victim', username: 'admin', password: 'pw' }], { discovery: false, maxPullHoldMs: 200 })
    )[0]!;
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const h = hostile;
        if (h && body.toString().includes(h.action)) return h.answer(res);
        const up = request({ host: '127.0.0.1', port: sim!.httpPort, path: req.url, method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 500, r.headers);
          // Service addresses must point back at us, or the client would bypass the proxy.
          const parts: Buffer[] = [];
          r.on('data', (c: Buffer) => parts.push(c));
          r.on('end', () => res.end(Buffer.concat(parts).toString().replaceAll(`:${sim!.httpPort}/`, `:${port}/`)));
        });
        up.on('error', () => res.destroy());
        up.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    port = (proxy.address() as { port: number }).port;
  });

  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
    await sim?.stop();
  });

  const connect = async (): Promise<GatehouseError> => {
    const cam = new OnvifCamera({
      host: '127.0.0.1',
      port,
      path: '/onvif/device_service',
      username: 'admin',
      password: 'pw',
      timeoutMs: 3000,
    });
    try {
      await cam.connect();
      await cam.deviceInfo();
      throw new Error('expected a refusal');
    } catch (err) {
      if (!isGatehouseError(err)) throw err;
      return err;
    } finally {
      cam.close();
    }
  };

  const soap = (res: import('node:http').ServerResponse, xml: string) =>
    res.writeHead(200, { 'Content-Type': 'application/soap+xml' }).end(xml);

  it('passes a well-behaved camera through (the proxy itself is sound)', async () => {
    hostile = undefined;
    const cam = new OnvifCamera({ host: '127.0.0.1', port, path: '/onvif/device_service', username: 'admin', password: 'pw' });
    await cam.connect();
    expect((await cam.deviceInfo()).model).toBe('SimCam 2000');
    cam.close();
  });

  it('refuses a 20 MB answer once past 1 MiB, without buffering it', async () => {
    hostile = {
      action: 'GetDeviceInformation',
      answer: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/soap+xml' });
        res.write(`<s:Envelope xmlns:s="${SOAP}"><s:Body><x>`);
        const chunk = 'A'.repeat(64 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 20 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('</x></s:Body></s:Envelope>');
        };
        res.on('error', () => undefined);
        pump();
      },
    };
    const err = await connect();
    expect(err.code).toBe('DEVICE_RESPONSE_REFUSED');
    expect(err.details).toMatchObject({ reason: 'too_large', limit: 1024 * 1024 });
  });

  it('refuses a DTD with entity declarations (billion laughs)', async () => {
    hostile = { action: 'GetDeviceInformation', answer: (res) => soap(res, laughs) };
    const err = await connect();
    expect(err.code).toBe('DEVICE_RESPONSE_REFUSED');
    expect(err.details).toMatchObject({ reason: 'dtd' });
  });

  it('refuses a DTD split across HTTP chunks (caught before the parse result is used)', async () => {
    hostile = {
      action: 'GetDeviceInformation',
      answer: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/soap+xml' });
        const i = laughs.indexOf('DOCTYPE') + 3;
        res.write(laughs.slice(0, i));
        setTimeout(() => res.end(laughs.slice(i)), 20);
      },
    };
    const err = await connect();
    expect(err.code).toBe('DEVICE_RESPONSE_REFUSED');
    expect(err.details).toMatchObject({ reason: 'dtd' });
  });

  it('refuses an Envelope in a foreign namespace', async () => {
    hostile = {
      action: 'GetDeviceInformation',
      answer: (res) =>
        soap(
          res,
          '<s:Envelope xmlns:s="http://evil.example/soap"><s:Body><GetDeviceInformationResponse><Model>X</Model></GetDeviceInformationResponse></s:Body></s:Envelope>',
        ),
    };
    const err = await connect();
    expect(err.code).toBe('DEVICE_RESPONSE_REFUSED');
    expect(err.details).toMatchObject({ reason: 'namespace', namespace: 'http://evil.example/soap' });
  });

  it('refuses an answer that is not XML at all', async () => {
    hostile = {
      action: 'GetDeviceInformation',
      answer: (res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Hello</body></html>'),
    };
    const err = await connect();
    expect(err.code).toBe('DEVICE_RESPONSE_REFUSED');
    expect(err.details).toMatchObject({ reason: 'not_xml' });
  });

  it('profiles that match no video source make the package throw: a coded error, not a crash', async () => {
    hostile = {
      action: 'GetVideoSources',
      answer: (res) =>
        soap(
          res,
          `<s:Envelope xmlns:s="${SOAP}"><s:Body><GetVideoSourcesResponse><VideoSources token="OTHER"><Framerate>25</Framerate></VideoSources></GetVideoSourcesResponse></s:Body></s:Envelope>`,
        ),
    };
    const err = await connect();
    expect(err.code).toBe('DEVICE_PROTOCOL');
    expect(err.message).toMatch(/Unrecognized configuration/);
  });

  it('a hostile camera under the service is reported with its coded reason and retried, the gateway keeps running', async () => {
    hostile = { action: 'GetDeviceInformation', answer: (res) => soap(res, laughs) };
    const rig = cameraRig([{ ...sim, id: 'victim', httpPort: port } as SimulatedCamera], { victim: 'pw' });
    await rig.cameras.start();
    try {
      await waitFor(() => rig.outbox.events.find((e) => e.type === 'device.offline'), 'victim reported offline');
      expect(rig.outbox.events.find((e) => e.type === 'device.offline')!.data).toEqual({ family: 'camera', reason: 'protocol_error' });
      expect(rig.cameras.service.status('victim')).toMatchObject({ online: false, lastError: 'DEVICE_RESPONSE_REFUSED' });
      hostile = undefined;
      await waitFor(() => rig.cameras.service.status('victim')?.online, 'victim online once it behaves');
    } finally {
      await rig.cameras.stop();
    }
  });
});
