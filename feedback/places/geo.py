"""Where things are: one distance function and one coordinate conversion.

Stations' coordinates are GCJ-02, as Chinese maps (Amap, Tencent) show them and as the CSV holds
them; a phone's browser and GeoJSON speak WGS-84. Between the two, GCJ-02 shifts points by
hundreds of metres in a direction that changes across the country, so distances are always
measured between WGS-84 points. The conversion itself is the `coordTransform` package's.
"""
import math

import coordTransform

EARTH_RADIUS_M = 6371008.8  # the mean radius (IUGG)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two WGS-84 (latitude, longitude) points, in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    """A WGS-84 point (a phone's position) as GCJ-02; unchanged outside China."""
    longitude, latitude = coordTransform.wgs84_to_gcj02(longitude, latitude)
    return latitude, longitude


def to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    """A GCJ-02 point (a station's) as WGS-84, to a few centimetres; unchanged outside China."""
    # the package inverts the offset in one step (up to about 5 m off); one more step of the
    # same correction, measured against its own forward conversion, brings that to centimetres
    lon, lat = coordTransform.gcj02_to_wgs84(longitude, latitude)
    forward_lon, forward_lat = coordTransform.wgs84_to_gcj02(lon, lat)
    return lat + latitude - forward_lat, lon + longitude - forward_lon
