/**
 * Response bodies of the simulated camera's Device, Media and PTZ services. Kept complete
 * enough for both client libraries the tests use: the `onvif` package matches profiles to
 * video sources (and throws if none match) and `node-onvif` reads encoder resolution, rate
 * control and bounds without checking they exist.
 */
import { escapeXml } from './soap.js';

export interface SimProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  ptz: boolean;
}

export interface SimIdentity {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

export function systemDateAndTime(cameraNow: number): string {
  const d = new Date(cameraNow);
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
    '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>' +
    `<tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime>` +
    '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export function deviceInformation(id: SimIdentity): string {
  return (
    '<tds:GetDeviceInformationResponse>' +
    `<tds:Manufacturer>${escapeXml(id.manufacturer)}</tds:Manufacturer><tds:Model>${escapeXml(id.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${escapeXml(id.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${escapeXml(id.serial)}</tds:SerialNumber>` +
    `<tds:HardwareId>${escapeXml(id.hardwareId)}</tds:HardwareId>` +
    '</tds:GetDeviceInformationResponse>'
  );
}

export interface XAddrs {
  device: string;
  media: string;
  /** Absent: the camera has no such service and does not advertise it. */
  ptz?: string;
  events?: string;
}

export function capabilities(x: XAddrs): string {
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${x.device}</tt:XAddr></tt:Device>` +
    (x.events
      ? `<tt:Events><tt:XAddr>${x.events}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
        '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>'
      : '') +
    `<tt:Media><tt:XAddr>${x.media}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
    (x.ptz ? `<tt:PTZ><tt:XAddr>${x.ptz}</tt:XAddr></tt:PTZ>` : '') +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function services(x: XAddrs): string {
  const svc = (ns: string, addr: string, major: number, minor: number) =>
    `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${addr}</tds:XAddr><tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
  return (
    '<tds:GetServicesResponse>' +
    svc('http://www.onvif.org/ver10/device/wsdl', x.device, 2, 60) +
    svc('http://www.onvif.org/ver10/media/wsdl', x.media, 2, 60) +
    (x.ptz ? svc('http://www.onvif.org/ver20/ptz/wsdl', x.ptz, 2, 60) : '') +
    (x.events ? svc('http://www.onvif.org/ver10/events/wsdl', x.events, 2, 60) : '') +
    '</tds:GetServicesResponse>'
  );
}

function profileXml(p: SimProfile, i: number): string {
  return (
    `<trt:Profiles token="${escapeXml(p.token)}" fixed="true"><tt:Name>${escapeXml(p.name)}</tt:Name>` +
    '<tt:VideoSourceConfiguration token="VSC_1"><tt:Name>VideoSource_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VS_1</tt:SourceToken>' +
    '<tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>' +
    `<tt:VideoEncoderConfiguration token="VEC_${i + 1}"><tt:Name>VideoEncoder_${i + 1}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${i === 0 ? 25 : 15}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${i === 0 ? 4096 : 512}</tt:BitrateLimit></tt:RateControl>` +
    '<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>' +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>' +
    (p.ptz
      ? '<tt:PTZConfiguration token="PTZ_1"><tt:Name>PTZ_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>PTZNODE_1</tt:NodeToken>' +
        '<tt:PanTiltLimits><tt:Range><tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange><tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:Range></tt:PanTiltLimits>' +
        '<tt:ZoomLimits><tt:Range><tt:URI>http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:Range></tt:ZoomLimits>' +
        '</tt:PTZConfiguration>'
      : '') +
    '</trt:Profiles>'
  );
}

export function profiles(list: SimProfile[]): string {
  return `<trt:GetProfilesResponse>${list.map(profileXml).join('')}</trt:GetProfilesResponse>`;
}

export function videoSources(): string {
  return (
    '<trt:GetVideoSourcesResponse><trt:VideoSources token="VS_1"><tt:Framerate>25</tt:Framerate>' +
    '<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>'
  );
}

export function mediaUri(action: 'GetStreamUri' | 'GetSnapshotUri', uri: string): string {
  return (
    `<trt:${action}Response><trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${action}Response>`
  );
}

export function presets(list: Map<string, string>): string {
  const body = [...list].map(
    ([token, name]) =>
      `<tptz:Preset token="${escapeXml(token)}"><tt:Name>${escapeXml(name)}</tt:Name>` +
      '<tt:PTZPosition><tt:PanTilt x="0" y="0" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/>' +
      '<tt:Zoom x="0" space="http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"/></tt:PTZPosition></tptz:Preset>',
  );
  return `<tptz:GetPresetsResponse>${body.join('')}</tptz:GetPresetsResponse>`;
}
