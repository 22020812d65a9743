"""Test certificates for the emulated My Number card, made locally with ``cryptography``.

The JPKI applet holds an authentication certificate and a signature certificate, each with
the certificate of the CA that issued it. Real ones name a person; these name the rig and
say "test" everywhere, and their keys are generated on the spot (RSA 2048, as JPKI uses),
once per process.
"""

from __future__ import annotations

import datetime as dt
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

#: The certificates a card file can ask for by name.
KINDS = ("auth", "auth_ca", "sign", "sign_ca")


def _name(common: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "onshi-rig test (not JPKI)"),
        x509.NameAttribute(NameOID.COMMON_NAME, common),
    ])


def _certificate(subject: str, issuer: str, key: rsa.RSAPrivateKey,
                 issuer_key: rsa.RSAPrivateKey, *, ca: bool) -> bytes:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    cert = builder.sign(issuer_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)


@functools.cache
def jpki_test_certificates() -> dict[str, bytes]:
    """DER certificates by kind: auth, auth_ca, sign, sign_ca."""
    keys = {kind: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for kind in KINDS}
    return {
        "auth_ca": _certificate("onshi-rig test auth CA", "onshi-rig test auth CA",
                                keys["auth_ca"], keys["auth_ca"], ca=True),
        "auth": _certificate("onshi-rig test card (auth)", "onshi-rig test auth CA",
                             keys["auth"], keys["auth_ca"], ca=False),
        "sign_ca": _certificate("onshi-rig test sign CA", "onshi-rig test sign CA",
                                keys["sign_ca"], keys["sign_ca"], ca=True),
        "sign": _certificate("onshi-rig test card (sign)", "onshi-rig test sign CA",
                             keys["sign"], keys["sign_ca"], ca=False),
    }
