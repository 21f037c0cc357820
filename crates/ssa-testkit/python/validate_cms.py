"""Validates a CMS/CAdES signature with pyHanko, as an independent checker.

Usage: validate_cms.py SIGNATURE (DOCUMENT | --enveloped) [--trust PEM]...
       [--ac-trust PEM]... [--at ISO-8601]

Every signed attribute of every SignerInfo is parsed in full first (with
pyHanko's CAdES attribute definitions registered), so a value of the wrong
shape is reported even where validation would not look at it. Each signer
is then validated on its own with pyHanko's detached-CMS validator. Output
is one `key: value` line per fact; the exit status is 0 when the output
could be produced at all.
"""

import argparse
import asyncio
import datetime
import sys

from asn1crypto import cms
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign.ades import cades_asn1  # noqa: F401 (registers attributes)
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('signature')
    parser.add_argument('document', nargs='?')
    parser.add_argument('--enveloped', action='store_true')
    parser.add_argument('--trust', action='append', default=[])
    parser.add_argument('--ac-trust', action='append', default=[])
    parser.add_argument('--at')
    args = parser.parse_args()

    with open(args.signature, 'rb') as f:
        info = cms.ContentInfo.load(f.read())
    signed = info['content']
    infos = list(signed['signer_infos'])
    print(f'signers: {len(infos)}')
    for n, signer_info in enumerate(infos):
        for attr in signer_info['signed_attrs']:
            name = attr['type'].native
            try:
                for value in attr['values']:
                    value.native
                print(f'signer {n} attribute {name}: parsed')
            except Exception as e:  # noqa: BLE001 (any parse error counts)
                print(f'signer {n} attribute {name}: unparseable {e!r}')

    moment = None
    if args.at:
        moment = datetime.datetime.fromisoformat(args.at)
    roots = [c for path in args.trust for c in load_certs_from_pemder([path])]
    ac_roots = [
        c for path in args.ac_trust for c in load_certs_from_pemder([path])
    ]
    if args.enveloped:
        document = signed['encap_content_info']
    else:
        with open(args.document, 'rb') as f:
            document = f.read()

    for n, signer_info in enumerate(infos):
        one = signed.copy()
        one['signer_infos'] = cms.SignerInfos([signer_info])
        context = ValidationContext(trust_roots=roots, moment=moment)
        ac_context = (
            ValidationContext(trust_roots=ac_roots, moment=moment)
            if ac_roots
            else None
        )
        try:
            status = asyncio.run(
                async_validate_detached_cms(
                    document,
                    one,
                    signer_validation_context=context,
                    ac_validation_context=ac_context,
                )
            )
        except Exception as e:  # noqa: BLE001 (reported, not raised)
            print(f'signer {n} error: {e!r}')
            continue
        print(f'signer {n} intact: {status.intact}')
        print(f'signer {n} valid: {status.valid}')
        print(f'signer {n} trusted: {status.trusted}')
        print(f'signer {n} bottom_line: {status.bottom_line}')
        ts = status.timestamp_validity
        if ts is not None:
            print(f'signer {n} timestamp intact: {ts.intact}')
            print(f'signer {n} timestamp valid: {ts.valid}')
            print(f'signer {n} timestamp trusted: {ts.trusted}')
            print(f'signer {n} timestamp at: {ts.timestamp.isoformat()}')
        attrs = status.cades_signer_attrs
        if attrs is not None:
            for claimed in attrs.claimed_attrs:
                for value in claimed.attr_values:
                    native = value.native
                    if claimed.attr_type.native == 'role':
                        native = native['role_name']
                    print(f'signer {n} claimed {claimed.attr_type.native}: {native}')
            for certified in attrs.certified_attrs or ():
                for value in certified.attr_values:
                    native = value.native
                    if certified.attr_type.native == 'role':
                        native = native['role_name']
                    print(f'signer {n} certified {certified.attr_type.native}: {native}')
            for error in attrs.ac_validation_errs or ():
                print(f'signer {n} ac error: {error!r}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
