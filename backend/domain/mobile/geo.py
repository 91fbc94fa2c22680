"""Where the phone was: great-circle distance to the site and the check-in status recorded with an
arrival, a completion or a signature. It warns and records; it never blocks an action."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


class CheckInStatus(StrEnum):
    INSIDE = "inside"  # within the radius of the site
    OUTSIDE = "outside"  # a good fix, too far from the site
    NO_FIX = "no_fix"  # the phone sent no position
    OFFLINE = "offline"  # queued offline: recorded, not validated live
    SITE_UNKNOWN = "site_unknown"  # the site has no coordinates to compare with


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class CheckIn:
    status: CheckInStatus
    distance_m: float | None
    radius_m: float

    @property
    def warning(self) -> str | None:
        if self.status is CheckInStatus.OUTSIDE:
            return f"position is {self.distance_m:.0f} m from the site (radius {self.radius_m:.0f} m)"
        return None


def haversine_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Distance in metres between two WGS84 points on a spherical Earth (error < 0.5 %)."""
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    d_phi, d_lambda = phi2 - phi1, math.radians(b_lon - a_lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def queued_offline(occurred_at: datetime, received_at: datetime, offline_after_s: float,
                   client_flag: bool = False) -> bool:
    """An action counts as queued offline when the phone says so or it arrived late."""
    return client_flag or (received_at - occurred_at).total_seconds() > offline_after_s


def check_in(position: Position | None, site: tuple[float, float] | None, radius_m: float, *,
             offline: bool) -> CheckIn:
    """The status to record. A fix's accuracy widens the radius by at most the radius itself,
    so a vague fix gets the benefit of the doubt but a 10 km circle cannot claim to be on site."""
    distance = None
    if position is not None and site is not None:
        distance = round(haversine_m(position.lat, position.lon, site[0], site[1]), 1)
    if offline:
        status = CheckInStatus.OFFLINE
    elif position is None:
        status = CheckInStatus.NO_FIX
    elif site is None or distance is None:
        status = CheckInStatus.SITE_UNKNOWN
    else:
        slack = min(max(position.accuracy_m or 0.0, 0.0), radius_m)
        status = CheckInStatus.INSIDE if distance <= radius_m + slack else CheckInStatus.OUTSIDE
    return CheckIn(status=status, distance_m=distance, radius_m=radius_m)
