#!/usr/bin/env python3
"""Compares the reconstructed schemas under tests/fixtures/onvif-schemas with the official ones.

    python3 tests/helpers/xsd-compare.py RECONSTRUCTED_DIR OFFICIAL_PATH...

Every global component (element, type, attribute, attribute group, group) declared in the
.xsd files of RECONSTRUCTED_DIR is brought to a canonical form and compared with the component
of the same kind, namespace and name in the official files (.xsd files, or .wsdl files whose
wsdl:types hold the schema; a directory means every such file in it). The canonical form keeps
what decides validation: particles in order with their occurrences, element and attribute
types (QNames resolved to {namespace}local), wildcards (namespace, processContents),
facets, nillable, mixed, default and fixed values, use. It drops annotations and the order of
attributes. Prints one line per component that differs or has no official counterpart,
then a summary; exits 0 only when every component is identical.

Why: no package CI can install ships the official ONVIF schemas, so the fixtures are written
by hand (docs/ONVIF-SCHEMAS.md); this is how they are checked against official copies read
elsewhere, without those copies entering the repository.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

XS = '{http://www.w3.org/2001/XMLSchema}'
WSDL = '{http://schemas.xmlsoap.org/wsdl/}'
GLOBAL_KINDS = ('element', 'complexType', 'simpleType', 'attribute', 'attributeGroup', 'group')


def prefixes(path):
    """Namespace prefixes declared anywhere in the file (schema files declare them once)."""
    found = {}
    for _, (prefix, uri) in ET.iterparse(path, events=('start-ns',)):
        found.setdefault(prefix, uri)
    return found


def qname(value, ns):
    if value is None:
        return None
    prefix, _, local = value.rpartition(':')
    uri = ns.get(prefix, '?' + prefix) if prefix else ns.get('', '')
    return '{%s}%s' % (uri, local)


def occurs(e):
    return [e.get('minOccurs', '1'), e.get('maxOccurs', '1')]


def canon(e, ns, tns, qualified):
    """The canonical form of one schema node, or None for annotations."""
    tag = e.tag.replace(XS, '')
    kids = [k for k in (canon(c, ns, tns, qualified) for c in e) if k is not None]
    if tag == 'annotation':
        return None
    if tag == 'element':
        if e.get('ref'):
            d = {'element': qname(e.get('ref'), ns)}
        else:
            d = {'element': '{%s}%s' % (tns if qualified or e.get('form') == 'qualified' else '', e.get('name'))}
        d['occurs'] = occurs(e)
        for a in ('nillable', 'default', 'fixed', 'abstract', 'substitutionGroup'):
            if e.get(a) is not None:
                d[a] = e.get(a)
        if e.get('type'):
            d['type'] = qname(e.get('type'), ns)
        if kids:
            d['anonymous'] = kids
        return d
    if tag in ('sequence', 'choice', 'all'):
        return {tag: kids, 'occurs': occurs(e)}
    if tag == 'any':
        return {'any': e.get('namespace', '##any'), 'process': e.get('processContents', 'strict'), 'occurs': occurs(e)}
    if tag == 'anyAttribute':
        return {'anyAttribute': e.get('namespace', '##any'), 'process': e.get('processContents', 'strict')}
    if tag == 'attribute':
        d = {'attribute': qname(e.get('ref'), ns) if e.get('ref') else e.get('name'), 'use': e.get('use', 'optional')}
        for a in ('default', 'fixed', 'form'):
            if e.get(a) is not None:
                d[a] = e.get(a)
        if e.get('type'):
            d['type'] = qname(e.get('type'), ns)
        if kids:
            d['anonymous'] = kids
        return d
    if tag in ('group', 'attributeGroup') and e.get('ref'):
        d = {tag + 'Ref': qname(e.get('ref'), ns)}
        if tag == 'group':
            d['occurs'] = occurs(e)
        return d
    if tag in ('complexType', 'simpleType', 'simpleContent', 'complexContent', 'extension', 'restriction', 'list', 'union',
               'group', 'attributeGroup'):
        d = {'kind': tag}
        for a in ('mixed', 'abstract', 'final', 'block'):
            if e.get(a) is not None:
                d[a] = e.get(a)
        if e.get('base'):
            d['base'] = qname(e.get('base'), ns)
        if e.get('itemType'):
            d['itemType'] = qname(e.get('itemType'), ns)
        if e.get('memberTypes'):
            d['memberTypes'] = sorted(qname(m, ns) for m in e.get('memberTypes').split())
        facets, attributes, content = {}, [], []
        for k in kids:
            if 'facet' in k:
                facets.setdefault(k['facet'], []).append(k['value'])
            elif {'attribute', 'anyAttribute', 'attributeGroupRef'} & k.keys():
                attributes.append(k)
            else:
                content.append(k)
        if facets:
            d['facets'] = {name: sorted(values) for name, values in sorted(facets.items())}
        if content:
            d['content'] = content
        if attributes:
            d['attributes'] = sorted(attributes, key=lambda a: json.dumps(a, sort_keys=True))
        return d
    return {'facet': tag, 'value': e.get('value')}


def schemas_in(path):
    root = ET.parse(path).getroot()
    if root.tag == XS + 'schema':
        return [root]
    if root.tag == WSDL + 'definitions':
        return [s for t in root.findall(WSDL + 'types') for s in t.findall(XS + 'schema')]
    return []


def components(paths):
    found = {}
    for path in paths:
        ns = prefixes(path)
        for schema in schemas_in(path):
            tns = schema.get('targetNamespace', '')
            qualified = schema.get('elementFormDefault') == 'qualified'
            for c in schema:
                kind = c.tag.replace(XS, '')
                if kind in GLOBAL_KINDS and c.get('name'):
                    form = canon(c, ns, tns, qualified)
                    form.pop('element', None)
                    form.pop('attribute', None)
                    found['%s {%s}%s' % (kind, tns, c.get('name'))] = (form, os.path.basename(path))
    return found


def files(path, exts):
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(exts))
    return [path]


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    mine = components(f for f in files(argv[1], ('.xsd',)) if os.path.basename(f) != 'all.xsd')
    official = components(f for p in argv[2:] for f in files(p, ('.xsd', '.wsdl')))
    same = 0
    for key in sorted(mine):
        form, where = mine[key]
        if key not in official:
            print('NOT IN OFFICIAL  %s  (%s)' % (key, where))
        elif json.dumps(form, sort_keys=True) != json.dumps(official[key][0], sort_keys=True):
            print('DIFFERS  %s  (%s vs %s)' % (key, where, official[key][1]))
            print('  reconstructed: ' + json.dumps(form, sort_keys=True))
            print('  official:      ' + json.dumps(official[key][0], sort_keys=True))
        else:
            same += 1
    print('%d of %d components identical' % (same, len(mine)))
    return 0 if same == len(mine) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
