#!/usr/bin/env python3
"""The peer a Python user would pick: cryptography's PKCS7SignatureBuilder,
detached, P-256, over a 1 KiB message. Prints one JSON line like hsm_bench.

    python3 benches/peer/pkcs7_sign.py --duration 10
"""
import argparse
import datetime
import json
import resource
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    message = b"\x5a" * 1024
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    latencies = []
    start = time.perf_counter()
    deadline = start + args.duration
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(message)
            .add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, options)
        )
        latencies.append(int((time.perf_counter() - t0) * 1e6))
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, round((len(latencies) - 1) * p))]
    print(json.dumps({
        "backend": "python-cryptography",
        "mode": "PKCS7SignatureBuilder",
        "threads": 1,
        "signatures": len(latencies),
        "signatures_per_second": round(len(latencies) / elapsed, 1),
        "p50_us": pick(0.5),
        "p99_us": pick(0.99),
        "max_us": latencies[-1],
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
