"""A throwaway test PKI standing in for the national root (NEAC) and provider CAs.

Layout under the PKI directory (``var/pki`` by default)::

    root.pem               the TEST root CA certificate (trust anchor)
    intermediates.pem      every intermediate CA certificate, PEM, concatenated
    ca/<ca>.pem, ca/<ca>.key.pem   each CA (root, misa, vnpt, token, mysign, ca2) and its key
    crl/<ca>.crl.pem       the CRL each intermediate publishes (revoked certificates)
    crls.pem               every CRL, concatenated (for ``openssl verify -CRLfile``)
    certs/<name>.pem       end-entity certificates, keys/<name>.key.pem their keys
    index.json             what was issued, so a second run reuses it

Everything here is test material: the private keys exist only under ``var/`` and sign
nothing but sandbox dossiers. Run ``python -m sandbox.pki`` to create or reuse it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "CA_NAMES",
    "DOCUMENT_SIGNING_EKU",
    "IssuedCertificate",
    "TestPKI",
    "Variant",
    "check_certificate",
    "mst_of",
]

Variant = Literal["valid", "expired", "not_yet_valid", "revoked"]
CaName = Literal["misa", "vnpt", "token", "mysign", "ca2"]

#: Intermediates, one per signing provider, plus a USB-token vendor for "registered
#: before remote signing" certificates.
CA_NAMES: dict[str, str] = {
    "misa": "MISA eSign TEST CA",
    "vnpt": "VNPT SmartCA TEST CA",
    "token": "USB Token TEST CA",
    "mysign": "Viettel-CA MySign TEST CA",
    "ca2": "CA2 RemoteSigning TEST CA",
}
ROOT_NAME = "BHXH TEST Root CA (stands in for NEAC, NOT TRUSTED)"
#: id-kp-documentSigning (RFC 9336) and Microsoft's document-signing EKU.
DOCUMENT_SIGNING_EKU = (
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
)
_ORG = "prefect-bhxh TEST PKI"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def mst_of(cert: x509.Certificate) -> str | None:
    """The tax code carried as ``UID=MST:<tax code>`` in the subject, if any."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.USER_ID):
        value = attr.value if isinstance(attr.value, str) else attr.value.decode()
        if value.startswith("MST:"):
            return value[4:]
    return None


@dataclass(frozen=True)
class IssuedCertificate:
    """An end-entity certificate of the test PKI and where its files are."""

    name: str
    ca: str
    variant: str
    cert_path: Path
    key_path: Path

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def mst(self) -> str | None:
        return mst_of(self.certificate)


class TestPKI:
    """Create once, then reuse: the root, the intermediates and issued certificates.

    Example:
        >>> pki = TestPKI.load_or_create(Path("var/pki"))  # doctest: +SKIP
        >>> pki.issue("acme", tax_code="0101234567", unit_name="ACME")  # doctest: +SKIP
    """

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    # ----------------------------------------------------------------- creation
    @classmethod
    def load_or_create(cls, directory: Path) -> TestPKI:
        pki = cls(directory)
        with pki._locked():
            if not (pki.dir / "root.pem").exists():
                pki._create_authorities()
            else:
                pki._add_missing_intermediates()
        return pki

    def _add_missing_intermediates(self) -> None:
        """A PKI made before an intermediate joined ``CA_NAMES`` gets it, under its root."""
        missing = [ca for ca in CA_NAMES if not (self.dir / "ca" / f"{ca}.pem").exists()]
        if not missing:
            return
        root, root_key = self.root, self._ca_key("root")
        for ca in missing:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
                    x509.NameAttribute(NameOID.COMMON_NAME, CA_NAMES[ca]),
                ]
            )
            cert = (
                self._ca_builder(name, root.subject, key, _now(), path_length=0)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                    critical=False,
                )
                .sign(root_key, hashes.SHA256())
            )
            self._write_ca(ca, cert, key)
            self._publish_crl(ca, [])
        _atomic_write(
            self.intermediates_pem_path,
            b"".join(
                self.ca_certificate(ca).public_bytes(serialization.Encoding.PEM) for ca in CA_NAMES
            ),
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _create_authorities(self) -> None:
        for sub in ("ca", "crl", "certs", "keys"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        now = _now()
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
                x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
            ]
        )
        root = self._ca_builder(root_name, root_name, root_key, now, path_length=1).sign(
            root_key, hashes.SHA256()
        )
        self._write_ca("root", root, root_key)
        for ca, cn in CA_NAMES.items():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                ]
            )
            cert = (
                self._ca_builder(name, root_name, key, now, path_length=0)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                    critical=False,
                )
                .sign(root_key, hashes.SHA256())
            )
            self._write_ca(ca, cert, key)
        (self.dir / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        (self.dir / "intermediates.pem").write_bytes(
            b"".join(
                self.ca_certificate(ca).public_bytes(serialization.Encoding.PEM) for ca in CA_NAMES
            )
        )
        self._write_index({})
        for ca in CA_NAMES:
            self._publish_crl(ca, [])
        # Written last: its presence means the authorities are complete.
        (self.dir / "root.pem").touch()

    @staticmethod
    def _ca_builder(
        subject: x509.Name,
        issuer: x509.Name,
        key: rsa.RSAPrivateKey,
        now: dt.datetime,
        *,
        path_length: int,
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=3650))
            .not_valid_after(now + dt.timedelta(days=3650 * 2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )

    def _write_ca(self, ca: str, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> None:
        (self.dir / "ca" / f"{ca}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_private(self.dir / "ca" / f"{ca}.key.pem", key)

    # ----------------------------------------------------------------- reading
    @property
    def root_pem_path(self) -> Path:
        return self.dir / "root.pem"

    @property
    def intermediates_pem_path(self) -> Path:
        return self.dir / "intermediates.pem"

    @property
    def crls_pem_path(self) -> Path:
        return self.dir / "crls.pem"

    def ca_certificate(self, ca: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((self.dir / "ca" / f"{ca}.pem").read_bytes())

    def _ca_key(self, ca: str) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(
            (self.dir / "ca" / f"{ca}.key.pem").read_bytes(), password=None
        )
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.root_pem_path.read_bytes())

    def intermediates(self) -> list[x509.Certificate]:
        return x509.load_pem_x509_certificates(self.intermediates_pem_path.read_bytes())

    def crl(self, ca: str) -> x509.CertificateRevocationList:
        return x509.load_pem_x509_crl((self.dir / "crl" / f"{ca}.crl.pem").read_bytes())

    def crls(self) -> list[x509.CertificateRevocationList]:
        return [self.crl(ca) for ca in CA_NAMES]

    def chain_der(self, ca: str) -> list[bytes]:
        """The chain above an end-entity of ``ca``: [intermediate, root], DER."""
        return [
            self.ca_certificate(ca).public_bytes(serialization.Encoding.DER),
            self.root.public_bytes(serialization.Encoding.DER),
        ]

    def _read_index(self) -> dict[str, dict[str, str]]:
        path = self.dir / "index.json"
        if not path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(path.read_text())
        return data

    def _write_index(self, index: dict[str, dict[str, str]]) -> None:
        _atomic_write(self.dir / "index.json", json.dumps(index, indent=2, sort_keys=True).encode())

    def get(self, name: str) -> IssuedCertificate:
        entry = self._read_index()[name]
        return self._issued(name, entry)

    def _issued(self, name: str, entry: dict[str, str]) -> IssuedCertificate:
        return IssuedCertificate(
            name=name,
            ca=entry["ca"],
            variant=entry["variant"],
            cert_path=self.dir / "certs" / f"{name}.pem",
            key_path=self.dir / "keys" / f"{name}.key.pem",
        )

    # ----------------------------------------------------------------- issuing
    def issue(
        self,
        name: str,
        *,
        tax_code: str,
        unit_name: str,
        ca: str = "misa",
        variant: Variant = "valid",
        locality: str = "Cầu Giấy",
        province: str = "Hà Nội",
    ) -> IssuedCertificate:
        """Issue (or reuse, when ``name`` exists with the same request) a unit certificate.

        Subject ``UID=MST:<tax code>, CN=<unit name>, L=<locality>, ST=<province>, C=VN``,
        RSA-2048, digitalSignature + nonRepudiation, document-signing EKU.
        """
        if ca not in CA_NAMES:
            raise ValueError(f"unknown CA {ca!r}; choose one of {sorted(CA_NAMES)}")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"certificate name {name!r}: letters, digits, '-' and '_' only")
        request = {
            "ca": ca,
            "variant": variant,
            "tax_code": tax_code,
            "unit_name": unit_name,
            "locality": locality,
            "province": province,
        }
        with self._locked():
            index = self._read_index()
            if name in index:
                if index[name] != request:
                    raise ValueError(
                        f"test certificate {name!r} exists with other details; pick another name"
                    )
                return self._issued(name, index[name])
            now = _now()
            not_before, not_after = {
                "valid": (now - dt.timedelta(days=30), now + dt.timedelta(days=730)),
                "revoked": (now - dt.timedelta(days=30), now + dt.timedelta(days=730)),
                "expired": (now - dt.timedelta(days=760), now - dt.timedelta(days=30)),
                "not_yet_valid": (now + dt.timedelta(days=30), now + dt.timedelta(days=760)),
            }[variant]
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            issuer = self.ca_certificate(ca)
            ca_key = self._ca_key(ca)
            subject = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
                    x509.NameAttribute(NameOID.LOCALITY_NAME, locality),
                    x509.NameAttribute(NameOID.COMMON_NAME, unit_name),
                    x509.NameAttribute(NameOID.USER_ID, f"MST:{tax_code}"),
                ]
            )
            cert = (
                x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(issuer.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(not_before)
                .not_valid_after(not_after)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=True,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=False,
                        crl_sign=False,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(
                    x509.ExtendedKeyUsage(
                        [*DOCUMENT_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]
                    ),
                    critical=False,
                )
                .add_extension(
                    x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                    critical=False,
                )
                .sign(ca_key, hashes.SHA256())
            )
            _write_private(self.dir / "keys" / f"{name}.key.pem", key)
            _atomic_write(
                self.dir / "certs" / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)
            )
            index[name] = request
            self._write_index(index)
            if variant == "revoked":
                revoked = [
                    self.get(n).certificate.serial_number
                    for n, e in index.items()
                    if e["ca"] == ca and e["variant"] == "revoked"
                ]
                self._publish_crl(ca, revoked)
            return self._issued(name, request)

    def _publish_crl(self, ca: str, serials: list[int]) -> None:
        now = _now()
        issuer = self.ca_certificate(ca)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + dt.timedelta(days=365))
        )
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - dt.timedelta(minutes=1))
                .build()
            )
        crl = builder.sign(self._ca_key(ca), hashes.SHA256())
        _atomic_write(
            self.dir / "crl" / f"{ca}.crl.pem", crl.public_bytes(serialization.Encoding.PEM)
        )
        _atomic_write(
            self.crls_pem_path,
            b"".join(
                (self.dir / "crl" / f"{c}.crl.pem").read_bytes()
                for c in CA_NAMES
                if (self.dir / "crl" / f"{c}.crl.pem").exists()
            ),
        )


def check_certificate(
    cert: x509.Certificate,
    *,
    roots: list[x509.Certificate],
    intermediates: list[x509.Certificate],
    crls: list[x509.CertificateRevocationList],
    at: dt.datetime | None = None,
) -> list[str]:
    """Problems with ``cert`` at time ``at``: chain, validity, revocation (empty = sound).

    The checks a relying party makes (the sandbox gateway uses them): issued by a known
    intermediate whose signature verifies, that intermediate issued by a trusted root,
    each certificate valid at ``at``, and the end-entity not listed in its issuer's CRL.
    """
    at = at or _now()
    problems: list[str] = []
    issuer = next((c for c in intermediates if c.subject == cert.issuer), None)
    if issuer is None:
        return [f"issuer {cert.issuer.rfc4514_string()} is not a known intermediate"]
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, Exception) as exc:  # InvalidSignature has no common base
        return [f"certificate signature does not verify against its issuer: {exc!r}"]
    root = next((r for r in roots if r.subject == issuer.issuer), None)
    if root is None:
        return [f"intermediate {issuer.subject.rfc4514_string()} does not chain to a trusted root"]
    try:
        issuer.verify_directly_issued_by(root)
    except Exception as exc:
        return [f"intermediate signature does not verify against the root: {exc!r}"]
    for c in (cert, issuer, root):
        if at < c.not_valid_before_utc:
            problems.append(f"not yet valid at {at.isoformat()} ({c.subject.rfc4514_string()})")
        if at > c.not_valid_after_utc:
            problems.append(f"expired at {at.isoformat()} ({c.subject.rfc4514_string()})")
    for crl in crls:
        if crl.issuer != issuer.subject:
            continue
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            problems.append("the issuer's CRL signature does not verify")
            continue
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            problems.append(f"revoked (serial {cert.serial_number:x})")
    return problems


def _write_private(path: Path, key: rsa.RSAPrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _atomic_write(path, data, mode=0o600)


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def sign_digest(key: rsa.RSAPrivateKey, digest: bytes) -> bytes:
    """RSA PKCS#1 v1.5 over an already-computed SHA-256 digest (what a remote signer does)."""
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    return key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.pki",
        description="Create (or reuse) the test PKI and optionally issue a unit certificate.",
    )
    parser.add_argument("--dir", type=Path, default=None, help="PKI directory (default var/pki)")
    parser.add_argument("--issue", metavar="NAME", help="issue a certificate with this name")
    parser.add_argument("--tax-code", default="0101234567")
    parser.add_argument("--unit-name", default="Công ty TNHH Thử Nghiệm")
    parser.add_argument("--ca", default="misa", choices=sorted(CA_NAMES))
    parser.add_argument(
        "--variant", default="valid", choices=["valid", "expired", "not_yet_valid", "revoked"]
    )
    args = parser.parse_args(argv)
    if args.dir is None:
        from bhxh.settings import get_settings

        args.dir = get_settings().pki_dir
    pki = TestPKI.load_or_create(args.dir)
    print(f"root CA:        {pki.root_pem_path}")
    print(f"intermediates:  {pki.intermediates_pem_path}")
    print(f"CRLs:           {pki.crls_pem_path}")
    if args.issue:
        issued = pki.issue(
            args.issue,
            tax_code=args.tax_code,
            unit_name=args.unit_name,
            ca=args.ca,
            variant=args.variant,
        )
        print(f"certificate:    {issued.cert_path} (serial {issued.serial_hex}, MST {issued.mst})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
