"""Where things are: one distance function and one coordinate conversion.

Stations' coordinates are GCJ-02, as Chinese maps (Amap, Tencent) show them and as the CSV holds
them; a phone's browser and GeoJSON speak WGS-84. Between the two, GCJ-02 shifts points by
hundreds of metres in a direction that changes across the country, so distances are always
measured between WGS-84 points. The forward conversion is the published GCJ-02 formula (the
Krasovsky ellipsoid and two trigonometric series); the inverse has no closed form and is found
by correcting a guess with the forward conversion until it holds.
"""
import math

EARTH_RADIUS_M = 6371008.8  # the mean radius (IUGG)
KRASOVSKY_A = 6378245.0  # the semi-major axis of the ellipsoid GCJ-02 is defined on
KRASOVSKY_EE = 0.00669342162296594323  # its eccentricity squared
INVERSE_STEPS = 4  # each step shrinks the error by about a thousand: four reach the float limit


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two WGS-84 (latitude, longitude) points, in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def outside_china(latitude: float, longitude: float) -> bool:
    """The published formula's box: points outside it are not shifted."""
    return not (73.66 < longitude < 135.05 and 3.86 < latitude < 53.55)


def _lat_series(x: float, y: float) -> float:
    s = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    s += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    s += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    s += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return s


def _lon_series(x: float, y: float) -> float:
    s = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    s += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    s += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    s += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return s


def to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    """A WGS-84 point (a phone's position) as GCJ-02; unchanged outside China."""
    if outside_china(latitude, longitude):
        return latitude, longitude
    x, y = longitude - 105.0, latitude - 35.0
    radians = latitude / 180.0 * math.pi
    magic = 1 - KRASOVSKY_EE * math.sin(radians) ** 2
    root = math.sqrt(magic)
    d_lat = _lat_series(x, y) * 180.0 / (
        KRASOVSKY_A * (1 - KRASOVSKY_EE) / (magic * root) * math.pi)
    d_lon = _lon_series(x, y) * 180.0 / (KRASOVSKY_A / root * math.cos(radians) * math.pi)
    return latitude + d_lat, longitude + d_lon


def to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    """A GCJ-02 point (a station's) as WGS-84, to well under a millimetre; unchanged outside
    China."""
    lat, lon = latitude, longitude
    for _ in range(INVERSE_STEPS):
        forward_lat, forward_lon = to_gcj02(lat, lon)
        lat, lon = lat + latitude - forward_lat, lon + longitude - forward_lon
    return lat, lon
