"""Makes the verifier's interoperability vectors (issue 14) the way other
products make them: OpenSSL (`openssl cms`, `openssl ts`, `openssl ocsp`,
`openssl ca`) and pyHanko sign, stamp and answer; where no product makes a
case on demand, a signature is edited here at the ASN.1 level with
asn1crypto and re-signed with `cryptography`, as the comment on each says.

Run once from this directory with the workspace's .venv:
    ../../../../../.venv/bin/python3 make_vectors.py
It writes a throw-away PKI (pki/: keys included, test use only, valid
twenty years from the day it was made) and the vectors (*.p7s) over
doc.txt, and checks every vector meant to be valid with `openssl cms
-verify`. The Rust tests (tests/vectors.rs) validate them at 2027-01-01.
"""

import asyncio
import datetime
import hashlib
import os
import shutil
import subprocess
import tempfile

from asn1crypto import algos, cms, core, crl, ocsp, tsp, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))
PKI = os.path.join(HERE, 'pki')
DOC = os.path.join(HERE, 'doc.txt')
WORK = tempfile.mkdtemp()


def run(*args, input=None):
    out = subprocess.run(
        args, cwd=WORK, input=input, capture_output=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(
            f'{" ".join(args)} failed: {out.stderr.decode()}{out.stdout.decode()}'
        )
    return out.stdout


def pki(name):
    return os.path.join(PKI, name)


EXTENSIONS = """
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[aa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_pki():
    os.makedirs(PKI, exist_ok=True)
    with open(os.path.join(WORK, 'ext.cnf'), 'w') as f:
        f.write(EXTENSIONS)
    run('openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt',
        'ec_paramgen_curve:P-256', '-out', pki('root.key'))
    run('openssl', 'req', '-new', '-key', pki('root.key'),
        '-subj', '/CN=ssa vectors root/O=ssa test vectors',
        '-config', '/dev/null', '-out', 'root.csr')
    run('openssl', 'x509', '-req', '-in', 'root.csr', '-signkey',
        pki('root.key'), '-set_serial', '256', '-days', '7300',
        '-extfile', 'ext.cnf', '-extensions', 'ca', '-out', pki('root.pem'))
    serial = 0x100

    def issue(name, cn, section, issuer='root', key='EC'):
        nonlocal serial
        serial += 1
        if key == 'EC':
            run('openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt',
                'ec_paramgen_curve:P-256', '-out', pki(f'{name}.key'))
        else:
            run('openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
                'rsa_keygen_bits:2048', '-out', pki(f'{name}.key'))
        run('openssl', 'req', '-new', '-key', pki(f'{name}.key'),
            '-subj', f'/CN={cn}/O=ssa test vectors', '-config', '/dev/null',
            '-out', f'{name}.csr')
        run('openssl', 'x509', '-req', '-in', f'{name}.csr',
            '-CA', pki(f'{issuer}.pem'), '-CAkey', pki(f'{issuer}.key'),
            '-set_serial', str(serial), '-days', '7300',
            '-extfile', 'ext.cnf', '-extensions', section,
            '-out', pki(f'{name}.pem'))

    issue('signer', 'Vector Signer', 'signer')
    issue('rsa-signer', 'Vector RSA Signer', 'signer', key='RSA')
    issue('tsa', 'Vector TSA', 'tsa')
    issue('tsa-ca', 'Vector TSA CA', 'ca')
    issue('tsa-sub', 'Vector TSA under a sub-CA', 'tsa', issuer='tsa-ca')
    issue('aa', 'Vector Attribute Authority', 'aa')
    for name in ('root', 'signer', 'rsa-signer', 'tsa', 'tsa-ca', 'tsa-sub', 'aa'):
        run('openssl', 'x509', '-in', pki(f'{name}.pem'), '-outform', 'DER',
            '-out', pki(f'{name}.der'))


def load_cert(name):
    with open(pki(f'{name}.pem'), 'rb') as f:
        return x509.Certificate.load(pem_to_der(f.read()))


def pem_to_der(data):
    from asn1crypto import pem
    if pem.detect(data):
        _, _, der = pem.unarmor(data)
        return der
    return data


def load_key(name):
    with open(pki(f'{name}.key'), 'rb') as f:
        return serialization.load_pem_private_key(f.read(), None)


def openssl_b_b(signer='signer', extra=()):
    return run('openssl', 'cms', '-sign', '-cades', '-binary', '-md', 'sha256',
               '-in', DOC, '-signer', pki(f'{signer}.pem'),
               '-inkey', pki(f'{signer}.key'), '-outform', 'DER', *extra)


TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {work}/tsaserial
crypto_device = builtin
signer_cert = {cert}
signer_key = {key}
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = {digits}
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = {ess}
"""


def time_stamp(data, tsa='tsa', digits=0, ess='sha256'):
    """An RFC 3161 token over `data` from `openssl ts -reply`."""
    with open(os.path.join(WORK, 'tsaserial'), 'w') as f:
        f.write('01\n')
    with open(os.path.join(WORK, 'tsa.cnf'), 'w') as f:
        f.write(TSA_CONFIG.format(work=WORK, cert=pki(f'{tsa}.pem'),
                                  key=pki(f'{tsa}.key'), digits=digits,
                                  ess=ess))
    with open(os.path.join(WORK, 'stamped.bin'), 'wb') as f:
        f.write(data)
    run('openssl', 'ts', '-query', '-data', 'stamped.bin', '-sha256', '-cert',
        '-out', 'request.tsq')
    run('openssl', 'ts', '-reply', '-config', 'tsa.cnf', '-queryfile',
        'request.tsq', '-token_out', '-out', 'token.der')
    with open(os.path.join(WORK, 'token.der'), 'rb') as f:
        return f.read()


def signer_info(content_info, n=0):
    return content_info['content']['signer_infos'][n]


def add_unsigned(content_info, attribute, n=0):
    info = signer_info(content_info, n)
    present = list(info['unsigned_attrs']) if info['unsigned_attrs'].native else []
    info['unsigned_attrs'] = cms.CMSAttributes(present + [attribute])


def token_attribute(*tokens):
    return cms.CMSAttribute({
        'type': 'signature_time_stamp_token',
        'values': [cms.ContentInfo.load(t) for t in tokens],
    })


def b_t(signature, **tsa):
    info = cms.ContentInfo.load(signature)
    value = signer_info(info)['signature'].native
    add_unsigned(info, token_attribute(time_stamp(value, **tsa)))
    return info


def write(name, content_info_or_bytes, valid=True):
    data = (content_info_or_bytes if isinstance(content_info_or_bytes, bytes)
            else content_info_or_bytes.dump())
    path = os.path.join(HERE, name)
    with open(path, 'wb') as f:
        f.write(data)
    if valid:
        run('openssl', 'cms', '-verify', '-binary', '-inform', 'DER',
            '-in', path, '-content', DOC, '-CAfile', pki('root.pem'),
            '-purpose', 'any', '-out', '/dev/null')
    print('wrote', name)


def sign_attributes(attributes, key, signer='signer', sort=True):
    """A SignerInfo over `attributes` (asn1crypto CMSAttributes), signed
    with `cryptography` over their DER (sorted, as CMS says) or, with
    `sort=False`, over the order given."""
    cert = load_cert(signer)
    encoded = attributes.dump(force=True)
    if sort:
        # DER for a SET OF: the elements' encodings in ascending order.
        children = [a.dump(force=True) for a in attributes]
        body = b''.join(sorted(children))
        encoded = encoded[:len(encoded) - len(b''.join(children))] + body
    signature = key.sign(encoded, ec.ECDSA(hashes.SHA256()))
    return cms.SignerInfo({
        'version': 'v1',
        'sid': cms.SignerIdentifier({'issuer_and_serial_number': {
            'issuer': cert.issuer, 'serial_number': cert.serial_number}}),
        'digest_algorithm': {'algorithm': 'sha256'},
        'signed_attrs': attributes,
        'signature_algorithm': {'algorithm': 'sha256_ecdsa'},
        'signature': signature,
    })


def signed_data(signer_infos, certificates):
    return cms.ContentInfo({
        'content_type': 'signed_data',
        'content': {
            'version': 'v1',
            'digest_algorithms': [{'algorithm': 'sha256'}],
            'encap_content_info': {'content_type': 'data'},
            'certificates': certificates,
            'signer_infos': signer_infos,
        },
    })


def basic_attributes(cert, issuer_name=None):
    with open(DOC, 'rb') as f:
        digest = hashlib.sha256(f.read()).digest()
    cert_hash = hashlib.sha256(cert.dump()).digest()
    issuer = issuer_name if issuer_name is not None else cert.issuer
    return [
        cms.CMSAttribute({'type': 'content_type', 'values': ['data']}),
        cms.CMSAttribute({'type': 'message_digest', 'values': [digest]}),
        cms.CMSAttribute({'type': 'signing_time', 'values': [
            cms.Time({'utc_time': datetime.datetime.now(datetime.timezone.utc)
                      .replace(microsecond=0)})]}),
        cms.CMSAttribute({'type': 'signing_certificate_v2', 'values': [{
            'certs': [{
                'hash_algorithm': {'algorithm': 'sha256'},
                'cert_hash': cert_hash,
                'issuer_serial': {
                    'issuer': [x509.GeneralName({'directory_name': issuer})],
                    'serial_number': cert.serial_number,
                },
            }],
        }]}),
    ]


def printable_name(name):
    """`name` with every attribute value re-encoded as PrintableString."""
    rdns = []
    for rdn in name.chosen:
        rdns.append(x509.RelativeDistinguishedName([
            x509.NameTypeAndValue({
                'type': atv['type'],
                'value': x509.DirectoryString(
                    name='printable_string', value=atv['value'].native),
            }) for atv in rdn
        ]))
    return x509.Name(name='', value=x509.RDNSequence(rdns))


def attribute_certificate(holder):
    """An RFC 5755 attribute certificate (a role, for electronic
    delegation) for `holder`, issued and signed by the vector AA."""
    aa = load_cert('aa')
    info = cms.AttributeCertificateInfoV2({
        'version': 'v2',
        'holder': {'base_certificate_id': {
            'issuer': [x509.GeneralName({'directory_name': holder.issuer})],
            'serial': holder.serial_number,
        }},
        'issuer': cms.AttCertIssuer(name='v2_form', value={
            'issuer_name': [x509.GeneralName({'directory_name': aa.subject})],
        }),
        'signature': {'algorithm': 'sha256_ecdsa'},
        'serial_number': 7,
        'att_cert_validity_period': {
            'not_before_time': datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
            'not_after_time': datetime.datetime(2040, 1, 1, tzinfo=datetime.timezone.utc),
        },
        'attributes': [{
            'type': 'role',
            'values': [{'role_name': x509.GeneralName(
                {'uniform_resource_identifier': 'urn:example:role:purchasing-director'})}],
        }],
    })
    signature = load_key('aa').sign(info.dump(), ec.ECDSA(hashes.SHA256()))
    return cms.AttributeCertificateV2({
        'ac_info': info,
        'signature_algorithm': {'algorithm': 'sha256_ecdsa'},
        'signature': signature,
    })


def pyhanko_sign(spec):
    """pyHanko signs doc.txt (detached CAdES) with the CAdES attributes
    `spec` (a function of the signer) asks for."""
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    signer = signers.SimpleSigner.load(pki('signer.key'), pki('signer.pem'))
    spec = spec(signer)
    with open(DOC, 'rb') as f:
        document = f.read()
    return asyncio.run(signer.async_sign_general_data(
        document, 'sha256', detached=True, use_cades=True,
        signed_attr_settings=PdfCMSSignedAttributes(cades_signed_attrs=spec),
    ))


def signer_attributes_spec(signer):
    """A claimed role and a certified one (an attribute certificate)."""
    from pyhanko.sign.ades.api import CAdESSignedAttrSpec, SignerAttrSpec
    role = cms.AttCertAttribute({
        'type': 'role',
        'values': [{'role_name': x509.GeneralName(
            {'uniform_resource_identifier': 'urn:example:role:accountant'})}],
    })
    return CAdESSignedAttrSpec(signer_attributes=SignerAttrSpec(
        claimed_attrs=[role],
        certified_attrs=[attribute_certificate(signer.signing_cert)],
    ))


POLICY = os.path.join(HERE, 'policy.txt')


def policy_spec(signer):
    """An explicit signature policy (EPES): policy.txt's SHA-256."""
    from pyhanko.sign.ades.api import CAdESSignedAttrSpec
    from pyhanko.sign.ades.cades_asn1 import SignaturePolicyIdentifier
    with open(POLICY, 'rb') as f:
        digest = hashlib.sha256(f.read()).digest()
    return CAdESSignedAttrSpec(
        signature_policy_identifier=SignaturePolicyIdentifier({
            'signature_policy_id': {
                'sig_policy_id': '1.3.6.1.4.1.99999.1.1',
                'sig_policy_hash': {
                    'digest_algorithm': {'algorithm': 'sha256'},
                    'digest': digest,
                },
            },
        }))


def ocsp_response(cert, digest):
    """`openssl ocsp` as responder (the root signs) for `cert`, good; the
    CertID hashed with `digest`."""
    c = load_cert(cert)
    expiry = c['tbs_certificate']['validity']['not_after'].native.strftime('%y%m%d%H%M%SZ')
    subject = '/' + '/'.join(
        f'{k}={v}' for k, v in [('CN', c.subject.native['common_name']),
                                ('O', c.subject.native['organization_name'])])
    with open(os.path.join(WORK, 'index.txt'), 'w') as f:
        f.write(f'V\t{expiry}\t\t{c.serial_number:X}\tunknown\t{subject}\n')
    run('openssl', 'ocsp', f'-{digest}', '-issuer', pki('root.pem'),
        '-cert', pki(f'{cert}.pem'), '-no_nonce', '-reqout', 'ocsp.req')
    run('openssl', 'ocsp', '-index', 'index.txt', '-rsigner', pki('root.pem'),
        '-rkey', pki('root.key'), '-CA', pki('root.pem'), '-reqin', 'ocsp.req',
        '-respout', 'ocsp.resp', '-ndays', '7000')
    with open(os.path.join(WORK, 'ocsp.resp'), 'rb') as f:
        return ocsp.OCSPResponse.load(f.read())


def with_revocation(content_info, choice):
    signed = content_info['content']
    present = list(signed['crls']) if signed['crls'].native else []
    signed['crls'] = cms.RevocationInfoChoices(present + [choice])


def main():
    make_pki()

    # 1: pyHanko's signer-attributes-v2, a claimed and a certified role.
    write('pyhanko-signer-attributes.p7s', pyhanko_sign(signer_attributes_spec))

    # 17: an EPES signature from pyHanko, its policy hash over policy.txt.
    write('pyhanko-epes.p7s', pyhanko_sign(policy_spec))

    # 4: a time-stamp whose genTime has fractional seconds
    # (openssl ts with clock_precision_digits = 3).
    while True:
        stamped = b_t(openssl_b_b(), digits=3)
        token = signer_info(stamped)['unsigned_attrs'][0]['values'][0]
        tst = token['content']['encap_content_info']['content'].parsed
        if '.' in tst['gen_time'].dump().decode('latin-1'):
            break
    write('fractional-gen-time.p7s', stamped)

    # 5: a B-LT whose OCSP response is stored as a BasicOCSPResponse under
    # id-pkix-ocsp-basic, its CertID hashed with SHA-256.
    basic = b_t(openssl_b_b())
    response = ocsp_response('signer', 'sha256')
    with_revocation(basic, cms.RevocationInfoChoice(name='other', value={
        'other_rev_info_format': '1.3.6.1.5.5.7.48.1.1',
        'other_rev_info': core.Any.load(response['response_bytes']['response'].parsed.dump()),
    }))
    write('ocsp-basic-under-other.p7s', basic)
    # 5: the whole OCSPResponse under id-ri-ocsp-response, CertID SHA-1
    # (what openssl ocsp writes by default).
    sha1 = b_t(openssl_b_b())
    with_revocation(sha1, cms.RevocationInfoChoice(name='other', value={
        'other_rev_info_format': 'ocsp_response',
        'other_rev_info': ocsp_response('signer', 'sha1'),
    }))
    write('ocsp-sha1-cert-id.p7s', sha1)

    # 6: the TSA's token carries an attribute certificate in its
    # certificate set, as qualified TSAs do (added here: the token's
    # certificate set is outside what its signature covers).
    with_ac = b_t(openssl_b_b())
    token = signer_info(with_ac)['unsigned_attrs'][0]['values'][0]
    certs = list(token['content']['certificates'])
    certs.append(cms.CertificateChoices(
        name='v2_attr_cert', value=attribute_certificate(load_cert('tsa'))))
    token['content']['certificates'] = cms.CertificateSet(certs)
    write('tsa-attribute-certificate.p7s', with_ac)

    # 7: the TSA binds its certificate with ESS signing-certificate v1
    # (openssl ts with ess_cert_id_alg = sha1).
    write('tsa-ess-v1.p7s', b_t(openssl_b_b(), ess='sha1'))

    # 8: zero bytes after the DER value.
    write('trailing-zeros.p7s', openssl_b_b() + b'\x00\x00\x00\x00', valid=False)

    # 9: a v1 CRL (openssl ca -gencrl, no CRL extensions) in the crls.
    with open(os.path.join(WORK, 'ca.cnf'), 'w') as f:
        f.write(f"""[ca]
default_ca = root
[root]
database = {WORK}/crl-index.txt
certificate = {pki('root.pem')}
private_key = {pki('root.key')}
default_md = sha256
default_crl_days = 7000
""")
    open(os.path.join(WORK, 'crl-index.txt'), 'w').close()
    run('openssl', 'ca', '-gencrl', '-config', 'ca.cnf', '-out', 'v1.crl')
    with open(os.path.join(WORK, 'v1.crl'), 'rb') as f:
        v1 = crl.CertificateList.load(pem_to_der(f.read()))
    assert v1['tbs_cert_list']['version'].native in (None, 'v1'), 'not a v1 CRL'
    with_crl = cms.ContentInfo.load(openssl_b_b())
    with_revocation(with_crl, cms.RevocationInfoChoice(name='crl', value=v1))
    write('crl-v1.p7s', with_crl)

    # 10: signing-certificate-v2's issuer in PrintableString, the
    # certificate's own issuer in UTF8String (OpenSSL's default): the same
    # name (RFC 5280 §7.1). Signed here with the signer's key.
    cert = load_cert('signer')
    attributes = cms.CMSAttributes(
        basic_attributes(cert, issuer_name=printable_name(cert.issuer)))
    write('ess-issuer-printable.p7s', signed_data(
        [sign_attributes(attributes, load_key('signer'))], [cert]))

    # 12: two signature time-stamps, the second over other data.
    two = b_t(openssl_b_b())
    token = signer_info(two)['unsigned_attrs'][0]['values'][0]
    other = cms.ContentInfo.load(time_stamp(b'not the signature value'))
    signer_info(two)['unsigned_attrs'] = cms.CMSAttributes([
        token_attribute(token.dump(), other.dump())])
    write('one-unusable-time-stamp.p7s', two)

    # 13: the TSA is issued by a sub-CA whose certificate is in the
    # signature's certificate set, not in the token.
    chain = b_t(openssl_b_b(), tsa='tsa-sub')
    signed = chain['content']
    signed['certificates'] = cms.CertificateSet(
        list(signed['certificates']) + [cms.CertificateChoices(
            name='certificate', value=load_cert('tsa-ca'))])
    write('tsa-chain-in-signature.p7s', chain)

    # 14: signed over the DER-sorted attributes, sent in another order.
    # asn1crypto sorts a SET OF when it encodes one, so the order is
    # swapped in the encoded bytes (same length, same elements).
    # OpenSSL, which checks the order received only, refuses it.
    attributes = basic_attributes(cert)
    info = sign_attributes(cms.CMSAttributes(attributes), load_key('signer'))
    encoded = signed_data([info], [cert]).dump()
    children = sorted(a.dump(force=True) for a in attributes)
    assert encoded.count(b''.join(children)) == 1
    encoded = encoded.replace(b''.join(children), b''.join(reversed(children)))
    write('signed-sorted-sent-unsorted.p7s', encoded, valid=False)

    # 15: RSA-PSS with the largest salt (openssl cms -keyopt
    # rsa_pss_saltlen:max: 222 bytes for RSA-2048 and SHA-256).
    write('rsa-pss-salt-max.p7s', openssl_b_b('rsa-signer', (
        '-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:max')))
    # 15: RSA-PSS with a 20-byte salt (RFC 4055's default length).
    write('rsa-pss-salt-20.p7s', openssl_b_b('rsa-signer', (
        '-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:20')))

    shutil.rmtree(WORK)


if __name__ == '__main__':
    main()
