"""Rebuilds, from a CAdES signature's raw bytes, what each of its
archive-time-stamp-v3 tokens time-stamps (ETSI EN 319 122-1 V1.3.1 §5.5.2
and §5.5.3), with asn1crypto only: no code of the library under test.

Usage: archive_imprints.py SIGNATURE DOCUMENT OUTDIR

For the n-th archive time-stamp of the first SignerInfo it writes
OUTDIR/token-n.der (the token) and OUTDIR/input-n.bin, the concatenation
of eContentType, the document's hash, the SignerInfo's fields from version
to signature and the ats-hash-index-v3 value found in the token; and
prints whether every hash of that index names a certificate, revocation
value or unsigned attribute value (attrType || value) still present.
`openssl ts -verify -data input-n.bin` then checks the token.
"""

import hashlib
import os
import sys

from asn1crypto import algos, cms, core, tsp  # noqa: F401 (tsp registers TSTInfo)

ATS_V3 = '0.4.0.1733.2.4'
HASH_INDEX_V3 = '0.4.0.19122.1.5'
HASHES = {
    '2.16.840.1.101.3.4.2.1': hashlib.sha256,
    '2.16.840.1.101.3.4.2.2': hashlib.sha384,
    '2.16.840.1.101.3.4.2.3': hashlib.sha512,
}


class OctetStrings(core.SequenceOf):
    _child_spec = core.OctetString


class AtsHashIndexV3(core.Sequence):
    _fields = [
        ('hash_ind_algorithm', algos.DigestAlgorithm),
        ('certificates', OctetStrings),
        ('crls', OctetStrings),
        ('unsigned', OctetStrings),
    ]


def der(value):
    return value.dump()


def main():
    signature_path, document_path, out = sys.argv[1:4]
    with open(signature_path, 'rb') as f:
        info = cms.ContentInfo.load(f.read())
    with open(document_path, 'rb') as f:
        document = f.read()
    signed = info['content']
    signer = signed['signer_infos'][0]
    fields = b''.join(der(signer[name]) for name in (
        'version', 'sid', 'digest_algorithm', 'signed_attrs',
        'signature_algorithm', 'signature'))
    content_type = der(signed['encap_content_info']['content_type'])
    certificates = [der(c) for c in signed['certificates']] \
        if signed['certificates'].native is not None else []
    crls = [der(c) for c in signed['crls']] \
        if signed['crls'].native is not None else []
    unsigned = []
    tokens = []
    for attribute in signer['unsigned_attrs']:
        attr_type = der(attribute['type'])
        for value in attribute['values']:
            unsigned.append(attr_type + der(value))
            if attribute['type'].dotted == ATS_V3:
                tokens.append(der(value))
    print(f'archive time-stamps: {len(tokens)}')
    for n, token_der in enumerate(tokens):
        token = cms.ContentInfo.load(token_der)
        tst = token['content']['encap_content_info']['content'].parsed
        algorithm = tst['message_imprint']['hash_algorithm']['algorithm'].dotted
        digest = HASHES[algorithm]
        index_der = None
        for attribute in token['content']['signer_infos'][0]['unsigned_attrs']:
            if attribute['type'].dotted == HASH_INDEX_V3:
                index_der = der(attribute['values'][0])
        index = AtsHashIndexV3.load(index_der)
        listed = [index[k].native for k in ('certificates', 'crls', 'unsigned')]
        present = [
            {digest(c).digest() for c in certificates},
            {digest(c).digest() for c in crls},
            {digest(u).digest() for u in unsigned},
        ]
        missing = [
            name for name, hashes, here in zip(
                ('certificates', 'crls', 'unsigned'), listed, present)
            if not set(hashes) <= here
        ]
        print(f'archive {n} index: ' + ('ok' if not missing else 'missing ' + ' '.join(missing)))
        data = content_type + digest(document).digest() + fields + index_der
        with open(os.path.join(out, f'token-{n}.der'), 'wb') as f:
            f.write(token_der)
        with open(os.path.join(out, f'input-{n}.bin'), 'wb') as f:
            f.write(data)
    return 0


if __name__ == '__main__':
    sys.exit(main())
