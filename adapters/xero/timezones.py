"""Xero's organisation time-zone names (Windows ids written in capitals) mapped to IANA zones.

Used by ``mapping.tenant`` so the core judges "overdue" in the organisation's own zone (xero.md §2.2/§2.7).
The table covers the zones of Xero's main markets; an unknown name falls back to UTC and is logged.
"""

from __future__ import annotations

import structlog

log = structlog.get_logger(__name__)

XERO_TIMEZONES: dict[str, str] = {
    "WEUROPESTANDARDTIME": "Europe/Amsterdam",
    "ROMANCESTANDARDTIME": "Europe/Paris",
    "CENTRALEUROPESTANDARDTIME": "Europe/Budapest",
    "CENTRALEUROPEANSTANDARDTIME": "Europe/Warsaw",
    "GMTSTANDARDTIME": "Europe/London",
    "GREENWICHSTANDARDTIME": "Atlantic/Reykjavik",
    "FLESTANDARDTIME": "Europe/Helsinki",
    "GTBSTANDARDTIME": "Europe/Bucharest",
    "EEUROPESTANDARDTIME": "Europe/Chisinau",
    "TURKEYSTANDARDTIME": "Europe/Istanbul",
    "RUSSIANSTANDARDTIME": "Europe/Moscow",
    "SOUTHAFRICASTANDARDTIME": "Africa/Johannesburg",
    "ARABIANSTANDARDTIME": "Asia/Dubai",
    "INDIASTANDARDTIME": "Asia/Kolkata",
    "SINGAPORESTANDARDTIME": "Asia/Singapore",
    "CHINASTANDARDTIME": "Asia/Shanghai",
    "TOKYOSTANDARDTIME": "Asia/Tokyo",
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "CHATHAMISLANDSSTANDARDTIME": "Pacific/Chatham",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "EAUSTRALIASTANDARDTIME": "Australia/Brisbane",
    "CENAUSTRALIASTANDARDTIME": "Australia/Adelaide",
    "AUSCENTRALSTANDARDTIME": "Australia/Darwin",
    "WAUSTRALIASTANDARDTIME": "Australia/Perth",
    "TASMANIASTANDARDTIME": "Australia/Hobart",
    "FIJISTANDARDTIME": "Pacific/Fiji",
    "HAWAIIANSTANDARDTIME": "Pacific/Honolulu",
    "ALASKANSTANDARDTIME": "America/Anchorage",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "MOUNTAINSTANDARDTIME": "America/Denver",
    "USMOUNTAINSTANDARDTIME": "America/Phoenix",
    "CENTRALSTANDARDTIME": "America/Chicago",
    "EASTERNSTANDARDTIME": "America/New_York",
    "USEASTERNSTANDARDTIME": "America/Indiana/Indianapolis",
    "ATLANTICSTANDARDTIME": "America/Halifax",
    "NEWFOUNDLANDSTANDARDTIME": "America/St_Johns",
    "CANADACENTRALSTANDARDTIME": "America/Regina",
    "UTC": "UTC",
}


def iana_zone(xero_name: str | None) -> str:
    if not xero_name:
        return "UTC"
    zone = XERO_TIMEZONES.get(xero_name.upper())
    if zone is None:
        log.warning("xero.unknown_timezone", timezone=xero_name)
        return "UTC"
    return zone
