"""Signs PDFs through a CSC v1.0.4 server with pyHanko's CSCSigner, then
validates each signature with pyHanko's own validator against the server's
CA. Reads the jobs as JSON from the file named by argv[1]; prints one JSON
line per document; exits non-zero if anything fails.

Job: {url, user, password, credential, pin, totp_secret, documents, batch,
pss, out, ca}. With batch, every document of the job goes into one
signHash call (one authorize).
"""

import asyncio
import base64
import hashlib
import hmac
import io
import json
import struct
import sys
import time

import aiohttp
from asn1crypto import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationManager,
    CSCServiceSessionInfo,
    CSCSigner,
    fetch_certs_in_csc_credential,
)
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def totp(secret_b32: str) -> str:
    """RFC 6238 with SHA-1, 6 digits, 30-second steps."""
    padded = secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8)
    key = base64.b32decode(padded)
    counter = struct.pack(">Q", int(time.time()) // 30)
    mac = hmac.new(key, counter, hashlib.sha1).digest()
    offset = mac[-1] & 15
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class PinOtpAuthorization(CSCAuthorizationManager):
    """credentials/authorize with PIN and OTP, over exactly the hashes."""

    def __init__(self, session, session_info, credential_info, pin, secret):
        super().__init__(session_info, credential_info)
        self.session = session
        self.pin = pin
        self.secret = secret
        self.calls = 0

    async def authorize_signature(self, hash_b64s):
        self.calls += 1
        request = self.format_csc_auth_request(
            pin=self.pin, otp=totp(self.secret), hash_b64s=hash_b64s
        )
        async with self.session.post(
            self.csc_session_info.endpoint_url("credentials/authorize"),
            headers=self.auth_headers,
            json=request,
            raise_for_status=True,
        ) as response:
            return self.parse_csc_auth_response(await response.json())


def blank_pdf(text: str) -> bytes:
    writer = PdfFileWriter()
    stream = generic.StreamObject(stream_data=f"% {text}\n".encode())
    page = PageObject(
        contents=writer.add_object(stream), media_box=[0, 0, 595, 842]
    )
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def login(session, url, user, password) -> str:
    async with session.post(
        f"{url}/csc/v1/auth/login",
        headers={"Authorization": aiohttp.encode_basic_auth(user, password)},
        raise_for_status=True,
    ) as response:
        return (await response.json())["access_token"]


async def run_job(job) -> list:
    results = []
    async with aiohttp.ClientSession() as session:
        token = await login(session, job["url"], job["user"], job["password"])
        session_info = CSCServiceSessionInfo(
            job["url"], job["credential"], oauth_token=token
        )
        credential_info = await fetch_certs_in_csc_credential(session, session_info)
        auth = PinOtpAuthorization(
            session, session_info, credential_info, job["pin"], job["totp_secret"]
        )
        count = job["documents"]
        signer = CSCSigner(
            session,
            auth,
            prefer_pss=job.get("pss", False),
            batch_size=count if job.get("batch") else 1,
        )
        names = [f"{job['out']}/{job['credential'].replace('/', '_')}-{i}.pdf" for i in range(count)]

        async def sign_one(name):
            writer = IncrementalPdfFileWriter(io.BytesIO(blank_pdf(name)))
            out = io.BytesIO()
            await signers.async_sign_pdf(
                writer,
                signers.PdfSignatureMetadata(field_name="Signature1"),
                signer=signer,
                output=out,
            )
            with open(name, "wb") as f:
                f.write(out.getvalue())

        if job.get("batch"):
            await asyncio.gather(*(sign_one(name) for name in names))
        else:
            for name in names:
                await sign_one(name)

    with open(job["ca"], "rb") as f:
        ca = x509.Certificate.load(pem_to_der(f.read()))
    for name in names:
        with open(name, "rb") as f:
            reader = PdfFileReader(f)
            embedded = reader.embedded_signatures[0]
            status = await async_validate_pdf_signature(
                embedded, ValidationContext(trust_roots=[ca])
            )
            results.append(
                {
                    "file": name,
                    "credential": job["credential"],
                    "intact": status.intact,
                    "valid": status.valid,
                    "trusted": status.trusted,
                    "mechanism": status.pkcs7_signature_mechanism,
                    "authorize_calls": auth.calls,
                }
            )
    return results


def pem_to_der(pem: bytes) -> bytes:
    lines = [l for l in pem.decode().splitlines() if l and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


async def main(path: str) -> int:
    with open(path) as f:
        jobs = json.load(f)
    ok = True
    for job in jobs:
        for result in await run_job(job):
            print(json.dumps(result), flush=True)
            ok = ok and result["intact"] and result["valid"] and result["trusted"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
