"""Demo stations for a first run, clearly marked as such, and closed once real stations come."""
from feedback.places import stations
from feedback.storage.db import write

DEMO_STATIONS = [
    {"code": "DEMO-001", "name": "【演示】人民广场户外劳动者驿站", "district": "黄浦区",
     "address": "演示地址:人民大道 1 号", "latitude": "31.2304", "longitude": "121.4737",
     "tier": "national", "kind": "fixed", "amenities": "water;microwave;sofa;fridge;first-aid;charging",
     "hours": "24h"},
    {"code": "DEMO-002", "name": "【演示】滨江工地移动驿站", "district": "浦东新区",
     "address": "演示地址:滨江大道工地", "latitude": "31.2397", "longitude": "121.4998",
     "tier": "city", "kind": "mobile", "amenities": "water;first-aid;charging", "hours": "07:00-19:00"},
    {"code": "DEMO-003", "name": "【演示】银行网点爱心驿站", "district": "静安区",
     "address": "演示地址:南京西路 100 号", "latitude": "31.2292", "longitude": "121.4549",
     "tier": "provincial", "kind": "partner", "amenities": "water;microwave;toilet;air-conditioning",
     "hours": "09:00-17:00"},
    {"code": "DEMO-004", "name": "【演示】加油站暖心驿站", "district": "闵行区",
     "address": "演示地址:沪闵路 200 号", "latitude": "31.1130", "longitude": "121.3820",
     "tier": "city", "kind": "partner", "amenities": "water;toilet;charging", "hours": "24h"},
    {"code": "DEMO-005", "name": "【演示】环卫工人休息室", "district": "徐汇区",
     "address": "演示地址:漕溪北路 300 号", "latitude": "31.1880", "longitude": "121.4370",
     "tier": "provincial", "kind": "fixed", "amenities": "water;microwave;fridge;sofa",
     "hours": "06:00-11:30;13:30-21:00"},
]


def seed_if_empty(db, today, now) -> bool:
    """Add the demo stations, marked is_demo, when there are no stations at all."""
    with write(db):
        if db.execute("SELECT count(*) FROM stations").fetchone()[0]:
            return False
        rows = [stations.validate(record)[0] for record in DEMO_STATIONS]
        stations.upsert(db, rows, today, now)
        db.execute("UPDATE stations SET is_demo = 1")
    return True


def close_demo(db) -> list[str]:
    """Close the listed demo stations (no longer on posters, in the finder or the feed; their
    ratings are kept): the codes closed. Call inside write()."""
    return [code for (code,) in db.execute(
        "UPDATE stations SET status = 'closed' WHERE is_demo = 1 AND status = 'listed' RETURNING code")]
