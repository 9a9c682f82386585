/**
 * The camera simulator is as strict as the cameras it stands for: every SOAP answer it
 * produces (each operation it implements, its faults, and the WS-Discovery ProbeMatch) is
 * taken off the real HTTP/UDP sockets and validated with `xmllint --schema` against the
 * WS-* and ONVIF schemas checked in under tests/fixtures/onvif-schemas (no network). No
 * package that CI can install (npm registry, Debian) ships the official ONVIF schemas, so the
 * ONVIF types there are reconstructed, and compared type by type with the official onvif.xsd
 * 20.12: docs/ONVIF-SCHEMAS.md says where each file comes from and how it was checked.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedCamera } from '../../sim/camera/index.js';

const SCHEMAS = join(import.meta.dirname, '../fixtures/onvif-schemas');
const XMLLINT = process.env.GATEHOUSE_XMLLINT ?? '/usr/bin/xmllint';
const SOAP = 'http://www.w3.org/2003/05/soap-envelope';

function requireXmllint(): void {
  const r = spawnSync(XMLLINT, ['--version']);
  if (r.error || r.status !== 0) {
    throw new Error(
      `xmllint is not installed at ${XMLLINT}: the simulator's SOAP answers are validated with it. Install libxml2-utils (.ci/run does), or point GATEHOUSE_XMLLINT at the binary.`,
    );
  }
}

/** Validates each document; returns xmllint's complaints per file that failed (empty: all valid). */
function validate(docs: Record<string, string>, dir: string): Record<string, string[]> {
  const files = Object.entries(docs).map(([name, xml]) => {
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, xml);
    return { name, file };
  });
  const r = spawnSync(XMLLINT, ['--nonet', '--noout', '--schema', join(SCHEMAS, 'all.xsd'), ...files.map((f) => f.file)], {
    encoding: 'utf8',
  });
  const lines = r.stderr.split('\n').filter((l) => l && !l.includes('parser warning'));
  const failed: Record<string, string[]> = {};
  for (const f of files) {
    if (lines.includes(`${f.file} validates`)) continue;
    failed[f.name] = lines.filter((l) => l.startsWith(f.file));
  }
  return failed;
}

/** A WS-Security UsernameToken request, as a client sends it (PasswordDigest). */
function request(body: string, username: string, password: string, now: number): string {
  const nonce = randomBytes(16);
  const created = new Date(now).toISOString();
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)]))
    .digest('base64');
  const wsse = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
  return (
    `<s:Envelope xmlns:s="${SOAP}"><s:Header><Security xmlns="${wsse}"><UsernameToken><Username>${username}</Username>` +
    `<Password Type="PasswordDigest">${digest}</Password><Nonce>${nonce.toString('base64')}</Nonce><Created>${created}</Created>` +
    `</UsernameToken></Security></s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

const ns = {
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
};

describe('camera simulator SOAP answers are valid against the ONVIF and WS-* schemas', () => {
  const cams: SimulatedCamera[] = [];
  let dir: string;
  const answers: Record<string, string> = {};
  let full: SimulatedCamera;

  const post = async (cam: SimulatedCamera, path: string, body: string, password = 'sim-pw'): Promise<{ status: number; xml: string }> => {
    const res = await fetch(`http://127.0.0.1:${cam.httpPort}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/soap+xml; charset=utf-8' },
      body: request(body, 'admin', password, cam.cameraNow()),
    });
    return { status: res.status, xml: await res.text() };
  };

  beforeAll(async () => {
    requireXmllint();
    dir = mkdtempSync(join(tmpdir(), 'gh-soap-schemas-'));
    full = new SimulatedCamera({
      id: 'full',
      username: 'admin',
      password: 'sim-pw',
      discovery: { port: 0, multicast: false },
      maxPullHoldMs: 200,
    });
    const bare = new SimulatedCamera({
      id: 'bare',
      username: 'admin',
      password: 'sim-pw',
      discovery: false,
      services: { events: false, ptz: false },
      getServices: false,
    });
    cams.push(full, bare);
    for (const c of cams) await c.start();

    const dev = (op: string, inner = '') => post(full, '/onvif/device_service', `<${op} xmlns="${ns.tds}">${inner}</${op}>`);
    const media = (op: string, inner = '') => post(full, '/onvif/media_service', `<${op} xmlns="${ns.trt}">${inner}</${op}>`);
    const ptz = (op: string, inner = '') => post(full, '/onvif/ptz_service', `<${op} xmlns="${ns.tptz}">${inner}</${op}>`);
    const keep = (name: string, r: { status: number; xml: string }, status = 200) => {
      expect(r.status, name).toBe(status);
      answers[name] = r.xml;
      return r.xml;
    };

    keep('GetSystemDateAndTime', await dev('GetSystemDateAndTime'));
    keep('GetDeviceInformation', await dev('GetDeviceInformation'));
    keep('GetCapabilities', await dev('GetCapabilities', '<Category>All</Category>'));
    keep('GetServices', await dev('GetServices', '<IncludeCapability>false</IncludeCapability>'));
    keep('GetProfiles', await media('GetProfiles'));
    keep('GetVideoSources', await media('GetVideoSources'));
    keep('GetStreamUri', await media('GetStreamUri', '<StreamSetup/><ProfileToken>profile_1</ProfileToken>'));
    keep('GetSnapshotUri', await media('GetSnapshotUri', '<ProfileToken>profile_1</ProfileToken>'));
    keep('GetPresets', await ptz('GetPresets', '<ProfileToken>profile_1</ProfileToken>'));
    keep('GotoPreset', await ptz('GotoPreset', '<ProfileToken>profile_1</ProfileToken><PresetToken>preset_1</PresetToken>'));
    keep('SetPreset', await ptz('SetPreset', '<ProfileToken>profile_1</ProfileToken><PresetName>Gate</PresetName>'));
    const created = keep(
      'CreatePullPointSubscription',
      await post(
        full,
        '/onvif/events_service',
        `<CreatePullPointSubscription xmlns="${ns.tev}"><InitialTerminationTime>PT60S</InitialTerminationTime></CreatePullPointSubscription>`,
      ),
    );
    const sub = new URL(/<wsa:Address>([^<]+)<\/wsa:Address>/.exec(created)![1]!).pathname;
    keep(
      'PullMessages',
      await post(full, sub, `<PullMessages xmlns="${ns.tev}"><Timeout>PT1S</Timeout><MessageLimit>10</MessageLimit></PullMessages>`),
    );
    expect(answers.PullMessages).toContain('NotificationMessage'); // the initial state: messages are in this answer
    keep(
      'PullMessages-empty',
      await post(full, sub, `<PullMessages xmlns="${ns.tev}"><Timeout>PT0S</Timeout><MessageLimit>10</MessageLimit></PullMessages>`),
    );
    keep('Renew', await post(full, sub, `<Renew xmlns="${ns.wsnt}"><TerminationTime>PT120S</TerminationTime></Renew>`));
    keep('Unsubscribe', await post(full, sub, `<Unsubscribe xmlns="${ns.wsnt}"/>`));
    // Faults: each kind the simulator answers.
    keep('fault-NotAuthorized', await post(full, '/onvif/device_service', `<GetDeviceInformation xmlns="${ns.tds}"/>`, 'wrong'), 400);
    keep('fault-ResourceUnknown', await post(full, sub, `<Renew xmlns="${ns.wsnt}"><TerminationTime>PT60S</TerminationTime></Renew>`), 400);
    keep('fault-InvalidArgVal', await media('GetStreamUri', '<ProfileToken>nope</ProfileToken>'), 400);
    keep('fault-ActionNotSupported', await dev('GetHostname'), 400);
    keep('fault-WellFormed', await post(full, '/onvif/device_service', ''), 400);
    keep('fault-NoSuchPreset', await ptz('GotoPreset', '<ProfileToken>profile_1</ProfileToken><PresetToken>nope</PresetToken>'), 400);
    keep('fault-PresetNameRequired', await ptz('SetPreset', '<ProfileToken>profile_1</ProfileToken>'), 400);
    keep(
      'fault-NoPtzService',
      await post(bare, '/onvif/device_service', `<GetPresets xmlns="${ns.tptz}"><ProfileToken>profile_1</ProfileToken></GetPresets>`),
      400,
    );
    keep(
      'fault-NoGetServices',
      await post(
        bare,
        '/onvif/device_service',
        `<GetServices xmlns="${ns.tds}"><IncludeCapability>false</IncludeCapability></GetServices>`,
      ),
      400,
    );
    keep(
      'bare-GetCapabilities',
      await post(bare, '/onvif/device_service', `<GetCapabilities xmlns="${ns.tds}"><Category>All</Category></GetCapabilities>`),
    );

    // WS-Discovery: a Probe by unicast to the responder, the ProbeMatch off the UDP socket.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const probe =
      `<s:Envelope xmlns:s="${SOAP}" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">` +
      '<s:Header><a:MessageID>urn:uuid:0f5d1f4e-0000-4000-8000-000000000001</a:MessageID></s:Header>' +
      '<s:Body><d:Probe><d:Types xmlns:dn="http://www.onvif.org/ver10/network/wsdl">dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>';
    const match = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString('utf8'))));
    socket.send(probe, full.discoveryPort!, '127.0.0.1');
    answers.ProbeMatch = await match;
    socket.close();

    // For tests/helpers/xsd-mutate.py, which compares these schemas with official copies kept outside the repository.
    const out = process.env.GATEHOUSE_SOAP_ANSWERS_DIR;
    if (out) for (const [name, xml] of Object.entries(answers)) writeFileSync(join(out, `${name}.xml`), xml);
  }, 30_000);

  afterAll(async () => {
    for (const c of cams) await c.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('covers every operation the simulator implements', () => {
    const source = readFileSync(join(import.meta.dirname, '../../sim/camera/sim-camera.ts'), 'utf8');
    const soap = source.slice(source.indexOf('private async soap('), source.indexOf('private ttl('));
    const implemented = new Set([...soap.matchAll(/case '(\w+)':/g)].map((m) => m[1]!));
    implemented.add('GetSystemDateAndTime'); // answered before the switch (unauthenticated)
    expect(implemented.size).toBeGreaterThan(10);
    for (const op of implemented) expect(Object.keys(answers), op).toContain(op);
  });

  it('every answer validates', () => {
    expect(Object.keys(answers).length).toBe(27);
    expect(validate(answers, dir)).toEqual({});
  });

  it('the check is strict: the old Renew order, a ProbeMatch with an undeclared prefix and incomplete ONVIF answers are refused', () => {
    const oldRenew = answers.Renew!.replace(
      /(<wsnt:TerminationTime>[^<]*<\/wsnt:TerminationTime>)(<wsnt:CurrentTime>[^<]*<\/wsnt:CurrentTime>)/,
      '$2$1',
    );
    expect(oldRenew).not.toBe(answers.Renew);
    const undeclared = answers.ProbeMatch!.replace(/ xmlns:tds="[^"]*"/, '');
    expect(undeclared).not.toBe(answers.ProbeMatch);
    // And the ONVIF declarations apply: a device answer without HardwareId, a snapshot URI without Timeout.
    const noHardwareId = answers.GetDeviceInformation!.replace(/<tds:HardwareId>[^<]*<\/tds:HardwareId>/, '');
    const noTimeout = answers.GetSnapshotUri!.replace(/<tt:Timeout>[^<]*<\/tt:Timeout>/, '');
    expect(noHardwareId).not.toBe(answers.GetDeviceInformation);
    expect(noTimeout).not.toBe(answers.GetSnapshotUri);
    const noStreaming = answers.GetCapabilities!.replace(/<tt:StreamingCapabilities>.*<\/tt:StreamingCapabilities>/, '');
    expect(noStreaming).not.toBe(answers.GetCapabilities);
    const badOperation = answers.PullMessages!.replace(/PropertyOperation="Initialized"/, 'PropertyOperation="Started"');
    expect(badOperation).not.toBe(answers.PullMessages);
    const noSessionTimeout = answers.GetProfiles!.replace(/<tt:SessionTimeout>[^<]*<\/tt:SessionTimeout>/, '');
    expect(noSessionTimeout).not.toBe(answers.GetProfiles);
    const failed = validate({ oldRenew, undeclared, noHardwareId, noTimeout, noStreaming, badOperation, noSessionTimeout }, dir);
    expect(failed.noSessionTimeout!.join('\n')).toMatch(/Expected is \( \{http:\/\/www.onvif.org\/ver10\/schema\}SessionTimeout \)/);
    expect(failed.badOperation!.join('\n')).toMatch(
      /PropertyOperation': \[facet 'enumeration'\] The value 'Started' is not an element of the set/,
    );
    expect(failed.noStreaming!.join('\n')).toMatch(/Expected is \( \{http:\/\/www.onvif.org\/ver10\/schema\}StreamingCapabilities \)/);
    expect(failed.noHardwareId!.join('\n')).toMatch(
      /Missing child element\(s\). Expected is \( \{http:\/\/www.onvif.org\/ver10\/device\/wsdl\}HardwareId \)/,
    );
    expect(failed.noTimeout!.join('\n')).toMatch(/Expected is \( \{http:\/\/www.onvif.org\/ver10\/schema\}Timeout \)/);
    expect(failed.oldRenew!.join('\n')).toMatch(
      /CurrentTime': This element is not expected. Expected is \( \{http:\/\/docs.oasis-open.org\/wsn\/b-2\}TerminationTime \)/,
    );
    expect(failed.undeclared!.join('\n')).toMatch(/'tds:Device' has no corresponding namespace declaration/);
  });

  it('the parts of an answer the simulator leaves out are checked too: ONVIF content models, no stand-ins that accept anything', () => {
    // Each of these was let through when those types were stand-ins; the official onvif.xsd refuses each with these words.
    const add = (name: string, at: string, fragment: string) => {
      const doc = answers[name]!.replace(at, fragment + at);
      expect(doc, `${name}: ${at}`).not.toBe(answers[name]);
      return doc;
    };
    const multicast =
      '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
      '<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>';
    const audio = (encoding: string) =>
      `<tt:AudioEncoderConfiguration token="AEC_1"><tt:Name>Audio</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${encoding}</tt:Encoding>` +
      `<tt:Bitrate>64</tt:Bitrate><tt:SampleRate>8</tt:SampleRate>${multicast}<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:AudioEncoderConfiguration>`;
    const metadata = (inner: string) =>
      `<tt:MetadataConfiguration token="MD_1"><tt:Name>Meta</tt:Name><tt:UseCount>1</tt:UseCount>${inner}<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:MetadataConfiguration>`;
    const docs = {
      analyticsWithoutRules: add(
        'GetCapabilities',
        '<tt:Device>',
        '<tt:Analytics><tt:XAddr>http://127.0.0.1/onvif/analytics</tt:XAddr></tt:Analytics>',
      ),
      wordyBrightness: add('GetVideoSources', '</trt:VideoSources>', '<tt:Imaging><tt:Brightness>bright</tt:Brightness></tt:Imaging>'),
      mp3Audio: add('GetProfiles', '<tt:PTZConfiguration ', audio('MP3')),
      metadataWithoutMulticast: add('GetProfiles', '</trt:Profiles>', metadata('')),
      wordySpeed: add('GetProfiles', '<tt:PanTiltLimits>', '<tt:DefaultPTZSpeed><tt:PanTilt x="fast" y="0"/></tt:DefaultPTZSpeed>'),
      // The same parts written as ONVIF declares them are accepted: the check is not stricter than ONVIF.
      wellFormedAdditions: add('GetProfiles', '<tt:PTZConfiguration ', audio('G711')).replace(
        '</trt:Profiles>',
        metadata(`<tt:PTZStatus><tt:Status>true</tt:Status><tt:Position>true</tt:Position></tt:PTZStatus>${multicast}`) + '</trt:Profiles>',
      ),
      wellFormedCapabilities: add(
        'GetCapabilities',
        '<tt:Device>',
        '<tt:Analytics><tt:XAddr>http://127.0.0.1/onvif/analytics</tt:XAddr><tt:RuleSupport>true</tt:RuleSupport><tt:AnalyticsModuleSupport>false</tt:AnalyticsModuleSupport></tt:Analytics>',
      ),
    };
    const failed = validate(docs, dir);
    expect(Object.keys(failed).sort()).toEqual([
      'analyticsWithoutRules',
      'metadataWithoutMulticast',
      'mp3Audio',
      'wordyBrightness',
      'wordySpeed',
    ]);
    expect(failed.analyticsWithoutRules!.join('\n')).toMatch(
      /Analytics': Missing child element\(s\). Expected is \( \{http:\/\/www.onvif.org\/ver10\/schema\}RuleSupport \)/,
    );
    expect(failed.wordyBrightness!.join('\n')).toMatch(/Brightness': 'bright' is not a valid value of the atomic type 'xs:float'/);
    expect(failed.mp3Audio!.join('\n')).toMatch(
      /Encoding': \[facet 'enumeration'\] The value 'MP3' is not an element of the set \{'G711', 'G726', 'AAC'\}/,
    );
    expect(failed.metadataWithoutMulticast!.join('\n')).toMatch(
      /SessionTimeout': This element is not expected. Expected is one of \(.*Multicast \)/,
    );
    expect(failed.wordySpeed!.join('\n')).toMatch(/PanTilt', attribute 'x': 'fast' is not a valid value of the atomic type 'xs:float'/);
  });

  it('xmllint really reads the schemas (a document outside them is not silently accepted)', () => {
    const r = spawnSync(XMLLINT, ['--nonet', '--noout', '--schema', join(SCHEMAS, 'all.xsd'), '-'], {
      input: `<s:Envelope xmlns:s="${SOAP}"><s:Nobody/></s:Envelope>`,
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Nobody': This element is not expected/);
  });
});
