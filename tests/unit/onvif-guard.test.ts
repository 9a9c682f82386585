/** The text check the guard applies to every SOAP answer before its parse result is used. */
import { describe, expect, it } from 'vitest';
import { checkSoapText } from '../../drivers/onvif/guard.js';

const ok12 = '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>';

describe('checkSoapText', () => {
  it('accepts SOAP 1.2 and 1.1 envelopes, prefixed or not, with a leading comment', () => {
    expect(checkSoapText(ok12)).toBeUndefined();
    expect(checkSoapText('<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body/></Envelope>')).toBeUndefined();
    expect(
      checkSoapText(
        "<!-- cam --><SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body/></SOAP-ENV:Envelope>",
      ),
    ).toBeUndefined();
  });

  it('refuses DTDs and entity declarations in any case', () => {
    expect(checkSoapText('<!DOCTYPE x>' + ok12)?.details).toMatchObject({ reason: 'dtd' });
    expect(checkSoapText(ok12.replace('<s:Body/>', '<s:Body><!entity x "y"></s:Body>'))?.code).toBe('DEVICE_RESPONSE_REFUSED');
  });

  it('refuses foreign or missing namespaces and non-envelopes', () => {
    expect(checkSoapText('<s:Envelope xmlns:s="urn:evil"><s:Body/></s:Envelope>')?.details).toMatchObject({
      reason: 'namespace',
      namespace: 'urn:evil',
    });
    // The prefix used must be the one declared with the SOAP namespace.
    expect(checkSoapText('<s:Envelope xmlns:t="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>')?.details).toMatchObject({
      reason: 'namespace',
    });
    expect(checkSoapText('<Envelope><Body/></Envelope>')?.details).toMatchObject({ reason: 'namespace' });
    expect(checkSoapText('<html>no</html>')?.details).toMatchObject({ reason: 'not_xml' });
    expect(checkSoapText('')?.details).toMatchObject({ reason: 'not_xml' });
  });

  it('refuses text over the cap', () => {
    expect(checkSoapText(ok12 + ' '.repeat(2000), 1024)?.details).toMatchObject({ reason: 'too_large', limit: 1024 });
  });
});
