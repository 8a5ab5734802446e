"""Prove a stored login works: ``GET https://HOST/v2/`` with Basic auth.

"Login Succeeded" from a tool proves little (ecr-login rows never say it at all); the
registry's own answer does. urllib honours ``HTTPS_PROXY``/``NO_PROXY`` and
``SSL_CERT_FILE`` as other tools on the machine do.
"""

from __future__ import annotations

import base64
import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

log = logging.getLogger(__name__)

VERIFY_TIMEOUT = 15.0


@dataclass(frozen=True)
class Verification:
    verified: bool
    answer: str  # "verified", or the registry's answer in a few words


def verify_login(host: str, username: str, password: str,
                 timeout: float = VERIFY_TIMEOUT) -> Verification:
    request = urllib.request.Request(f"https://{host}/v2/", method="GET")
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    request.add_unredirected_header("Authorization", f"Basic {basic}")
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    except urllib.error.URLError as error:
        reason = getattr(error.reason, "strerror", None) or str(error.reason)
        log.info("could not verify %s: %s", host, reason)
        return Verification(False, f"could not reach the registry to verify ({reason})")
    except (TimeoutError, OSError) as error:
        log.info("could not verify %s: %s", host, type(error).__name__)
        return Verification(False, "the registry did not answer the check in time")
    if status == 200:
        return Verification(True, "verified")
    if status in (401, 403):
        return Verification(False, f"the registry refused the fresh token (HTTP {status})")
    return Verification(False, f"the registry answered HTTP {status} to GET /v2/")
