"""pyHanko signs a document: a detached CAdES (B-B) CMS signature.

Usage: sign_cms.py KEY.pem CERT.pem DOCUMENT OUT.p7s
"""

import asyncio
import sys

from pyhanko.sign import signers


def main():
    key, cert, document, out = sys.argv[1:5]
    signer = signers.SimpleSigner.load(key, cert)
    with open(document, 'rb') as f:
        data = f.read()
    signature = asyncio.run(signer.async_sign_general_data(
        data, 'sha256', detached=True, use_cades=True))
    with open(out, 'wb') as f:
        f.write(signature.dump())
    return 0


if __name__ == '__main__':
    sys.exit(main())
