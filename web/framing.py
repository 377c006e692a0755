"""Pages Salesforce may frame (the Open CTI softphone and its login): their Content-Security-Policy."""

from __future__ import annotations

from web.context import get_settings

# Where Lightning Experience hosts the Open CTI softphone panel (and Visualforce, for Classic).
FRAME_ANCESTORS = "https://*.lightning.force.com https://*.my.salesforce.com https://*.vf.force.com"
SOFTPHONE_PATH = "/softphone"


def salesforce_framable_csp(*, load_opencti: bool) -> str:
    """The app's CSP, but framable by Salesforce (and loading opencti_min.js from the org when asked)."""
    from web import _content_security_policy

    csp = _content_security_policy(get_settings())
    csp = csp.replace("frame-ancestors 'self'", f"frame-ancestors 'self' {FRAME_ANCESTORS}")
    if load_opencti:
        csp = csp.replace("script-src 'self'", f"script-src 'self' {FRAME_ANCESTORS}")
    return csp
