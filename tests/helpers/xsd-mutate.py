#!/usr/bin/env python3
"""Do two schema sets judge altered SOAP answers alike?

    python3 tests/helpers/xsd-mutate.py --a A.xsd [--a-catalog CAT.xml] --b B.xsd [--b-catalog CAT.xml] ANSWERS_DIR

Each .xml answer in ANSWERS_DIR is altered in single ways, element by element: removed,
duplicated, swapped with its next sibling; its text replaced by a word, nothing, -1 or 1.5;
each attribute removed or given an invalid value; an unknown child, a foreign-namespace
child, an unknown attribute and a foreign attribute added. Every altered answer is validated
with `xmllint --nonet` against schema A and schema B (each with its own XML catalog if given).
Prints each alteration the two judge differently, then a summary; exits 0 only when they
agree on all.

Why: the hand-written schemas under tests/fixtures/onvif-schemas must be as strict as the
official ones where the camera simulator's answers reach (docs/ONVIF-SCHEMAS.md). Set
GATEHOUSE_SOAP_ANSWERS_DIR when running tests/integration/camera-sim-schemas.test.ts to get
the simulator's answers as files.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from xml.dom import minidom

XMLLINT = os.environ.get('GATEHOUSE_XMLLINT', '/usr/bin/xmllint')


def elements(node):
    for c in node.childNodes:
        if c.nodeType == c.ELEMENT_NODE:
            yield c
            yield from elements(c)


def path(e):
    names = []
    while e is not None and e.nodeType == e.ELEMENT_NODE:
        names.append(e.tagName)
        e = e.parentNode
    return '/'.join(reversed(names))


def next_element(e):
    s = e.nextSibling
    while s is not None and s.nodeType != s.ELEMENT_NODE:
        s = s.nextSibling
    return s


TEXTS = {'text=word': 'zz invalid', 'text=empty': '', 'text=-1': '-1', 'text=1.5': '1.5'}


def alterations(doc):
    """(element index, where, alteration) for every single alteration of the document."""
    for i, e in enumerate(elements(doc)):
        where = path(e)
        root = e.parentNode.nodeType == e.DOCUMENT_NODE
        if not root:
            yield i, where, 'delete'
            yield i, where, 'duplicate'
            sibling = next_element(e)
            if sibling is not None and sibling.tagName != e.tagName:
                yield i, where, 'swap-next'
        children = [c for c in e.childNodes if c.nodeType == c.ELEMENT_NODE]
        if not children:
            for name in TEXTS:
                yield i, where, name
        for a in list(e.attributes.keys()):
            if not a.startswith('xmlns'):
                yield i, where + '/@' + a, 'attr-delete:' + a
                yield i, where + '/@' + a, 'attr=word:' + a
                yield i, where + '/@' + a, 'attr=-1:' + a
        for name in ('add-child', 'add-foreign-child', 'add-attr', 'add-foreign-attr'):
            yield i, where, name


def alter(doc, index, what):
    e = list(elements(doc))[index]
    if what == 'delete':
        e.parentNode.removeChild(e)
    elif what == 'duplicate':
        e.parentNode.insertBefore(e.cloneNode(True), e.nextSibling)
    elif what == 'swap-next':
        e.parentNode.insertBefore(next_element(e), e)
    elif what in TEXTS:
        for c in list(e.childNodes):
            e.removeChild(c)
        if TEXTS[what]:
            e.appendChild(doc.createTextNode(TEXTS[what]))
    elif what.startswith('attr-delete:'):
        e.removeAttribute(what.split(':', 1)[1])
    elif what.startswith('attr='):
        kind, name = what.split(':', 1)
        e.setAttribute(name, {'attr=word': 'zz invalid', 'attr=-1': '-1'}[kind])
    elif what == 'add-child':
        e.appendChild(doc.createElementNS(e.namespaceURI, (e.prefix + ':' if e.prefix else '') + 'ZzUnknown'))
    elif what == 'add-foreign-child':
        c = doc.createElementNS('urn:zz', 'zz:Zz')
        c.setAttribute('xmlns:zz', 'urn:zz')
        e.appendChild(c)
    elif what == 'add-attr':
        e.setAttribute('zzUnknown', '1')
    elif what == 'add-foreign-attr':
        e.setAttribute('xmlns:zz', 'urn:zz')
        e.setAttribute('zz:a', '1')
    return doc


def valid(schema, catalog, files):
    """The files xmllint finds valid against the schema."""
    env = dict(os.environ)
    if catalog:
        env['XML_CATALOG_FILES'] = catalog
    ok = set()
    for k in range(0, len(files), 400):
        r = subprocess.run([XMLLINT, '--nonet', '--noout', '--schema', schema] + files[k:k + 400], capture_output=True, text=True, env=env)
        if 'failed to compile' in r.stderr:
            raise SystemExit('%s does not compile:\n%s' % (schema, r.stderr))
        ok |= {line[:-len(' validates')] for line in r.stderr.splitlines() if line.endswith(' validates')}
    return ok


def main():
    p = argparse.ArgumentParser(description='Compare two schema sets on single alterations of SOAP answers.')
    p.add_argument('--a', required=True)
    p.add_argument('--a-catalog')
    p.add_argument('--b', required=True)
    p.add_argument('--b-catalog')
    p.add_argument('answers')
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix='gh-xsd-mutate-')
    made = {}
    for name in sorted(f for f in os.listdir(args.answers) if f.endswith('.xml')):
        source = open(os.path.join(args.answers, name), 'rb').read()
        for n, (index, where, what) in enumerate(alterations(minidom.parseString(source))):
            file = os.path.join(work, '%s--%d.xml' % (name[:-4], n))
            with open(file, 'w', encoding='utf-8') as out:
                out.write(alter(minidom.parseString(source), index, what).toxml())
            made[file] = (name, where, what)
    files = sorted(made)
    a = valid(args.a, args.a_catalog, files)
    b = valid(args.b, args.b_catalog, files)
    differ = [f for f in files if (f in a) != (f in b)]
    for f in differ:
        name, where, what = made[f]
        print('%s  %s  %s %s: A %s, B %s' % ('DIFFER', name, where, what, 'accepts' if f in a else 'refuses', 'accepts' if f in b else 'refuses'))
    both = sum(1 for f in files if f in a and f in b)
    print('%d alterations of %d answers: %d differ, %d accepted by both, %d refused by both' % (
        len(files), len({m[0] for m in made.values()}), len(differ), both, len(files) - len(differ) - both))
    for f in files:
        os.remove(f)
    os.rmdir(work)
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
