"""Outbound TLS: certificates are always verified; a private CA is trusted only when a
system's ``ca_bundle`` names it.

There is no switch to turn verification off: an integration holds the keys to both the
CRM and the ERP, and a silent fallback to an unverified connection would hand them to
whoever sits in the middle. A failed verification stops the flow with an error naming
the system, the URL and the fix.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from isthmus.errors import ConfigError, IsthmusError


class TlsVerificationError(IsthmusError):
    """The server's certificate could not be verified: not retried, the flow stops."""


def verify_setting(system: str, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """What to give httpx's ``verify``: the default trust store, or one that also
    trusts ``ca_bundle`` (a PEM file of CA certificates).

    Raises:
        ConfigError: ``ca_bundle`` cannot be read as PEM certificates.
    """
    if ca_bundle is None:
        return True
    path = Path(ca_bundle)
    try:
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(
            f"system {system!r}: options.ca_bundle {path} cannot be used ({reason}); give the "
            "PEM file of the CA that signed the server's certificate"
        ) from None
    return context


def verification_failure(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind ``error`` (an httpx error), if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def check_tls(error: httpx.HTTPError, system: str, url: str) -> None:
    """Raise ``TlsVerificationError`` when ``error`` is a failed certificate check.

    Raises:
        TlsVerificationError: with the system, the URL and what to do.
    """
    failure = verification_failure(error)
    if failure is None and "CERTIFICATE_VERIFY_FAILED" not in str(error):
        return
    reason = failure.verify_message if failure is not None else "certificate verify failed"
    raise TlsVerificationError(
        f"system {system!r}: the TLS certificate of {url} could not be verified ({reason}). "
        "Isthmus never connects without verification. If this server uses a private or "
        f"self-signed CA, set systems.{system}.options.ca_bundle to that CA's certificate "
        "(PEM file); otherwise check the URL: the connection may be intercepted."
    ) from None
