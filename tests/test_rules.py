"""The digest and the downgrade rule as pure functions on hand-made data with known answers."""
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from jobs import digest as digests
from jobs import downgrade

TZ = ZoneInfo("Asia/Shanghai")


def counts(**by_score):
    return {int(k[1:]): v for k, v in by_score.items()}


def data(**overrides):
    base = dict(day=date(2026, 11, 27), districts={"黄浦区": {}, "浦东新区": {}}, bad_ratings=[])
    return digests.DigestData(**{**base, **overrides})


def test_totals_distribution_mean_and_satisfaction():
    built = digests.build(data(districts={"黄浦区": counts(n5=2, n3=1), "浦东新区": counts(n2=1)}),
                          "https://x.org", TZ)
    assert built["ratings_total"] == 4
    assert built["distribution"] == {"5": 2, "4": 0, "3": 1, "2": 1, "1": 0}
    assert built["mean_score"] == pytest.approx((10 + 3 + 2) / 4)
    assert built["satisfaction_rate"] == pytest.approx(3 / 4)
    assert built["bad_ratings_total"] == 1  # a 2: bad ratings are counted, not listed
    assert built["districts"] == [
        {"district": "浦东新区", "ratings_total": 1, "distribution": {"5": 0, "4": 0, "3": 0, "2": 1, "1": 0},
         "mean_score": 2.0, "satisfaction_rate": 0.0, "bad_ratings_total": 1},
        {"district": "黄浦区", "ratings_total": 3, "distribution": {"5": 2, "4": 0, "3": 1, "2": 0, "1": 0},
         "mean_score": pytest.approx(13 / 3), "satisfaction_rate": 1.0, "bad_ratings_total": 0},
    ]
    assert built["url"] == "https://x.org/digests/2026-11-27"


def test_a_day_without_ratings_has_null_rates():
    built = digests.build(data(), "https://x.org", TZ)
    assert (built["ratings_total"], built["satisfaction_rate"], built["mean_score"]) == (0, None, None)


def test_bad_ratings_come_with_masked_comments_in_local_time():
    bad = [{"code": "B", "name": "驿站B", "district": "浦东新区", "rated_at": "2026-11-27T03:00:00Z",
            "score": 1, "comment": "打 138 0013 8000 或 a.b@example.com 找我", "reasons": "water;closed"},
           {"code": "A", "name": "驿站A", "district": "黄浦区", "rated_at": "2026-11-26T16:30:00Z",
            "score": 2, "comment": "", "reasons": ""}]
    built = digests.build(data(bad_ratings=bad, districts={"黄浦区": counts(n2=1), "浦东新区": counts(n1=1)}),
                          "https://x.org", TZ)
    assert [(b["station_code"], b["rated_at"]) for b in built["bad_ratings"]] == [
        ("A", "2026-11-27T00:30:00+08:00"), ("B", "2026-11-27T11:00:00+08:00")]
    assert built["bad_ratings"][1]["comment"] == "打 *** 或 *** 找我"
    assert built["bad_ratings"][1]["reasons"] == ["water", "closed"]
    assert built["bad_ratings_total"] == 2


@pytest.mark.parametrize("comment, masked", [
    ("13800138000", "***"),
    ("+86-138-0013-8000", "***"),
    ("(021) 6234 5678", "***"),
    ("电话１３８００１３８０００", "电话***"),
    ("3号桌 坏了 2 天", "3号桌 坏了 2 天"),
    ("2026-11-27 停水", "2026-11-27 停水"),
])
def test_phone_numbers_and_anything_like_them_are_masked(comment, masked):
    assert digests.mask_contacts(comment) == masked


def test_the_bad_ratings_list_is_cut_and_its_total_says_how_long(monkeypatch):
    monkeypatch.setattr(digests, "LIST_LIMIT", 2)
    built = digests.build(data(districts={"黄浦区": counts(n1=3)},
                               bad_ratings=[{"code": "S1", "name": "x", "district": "黄浦区",
                                             "rated_at": f"2026-11-27T0{n}:00:00Z", "score": 1,
                                             "comment": "", "reasons": ""} for n in range(3)]),
                          "https://x.org", TZ)
    assert len(built["bad_ratings"]) == 2 and built["bad_ratings_total"] == 3


def flag_station(code, tier="national", opened_on="2020-01-01", status="listed"):
    return {"code": code, "tier": tier, "status": status, "opened_on": opened_on,
            "last_rated_at": None}


def test_downgrade_window_is_the_three_complete_months_before_the_date():
    assert downgrade.window(date(2026, 12, 1)) == (date(2026, 9, 1), date(2026, 12, 1))
    assert downgrade.window(date(2026, 12, 31)) == (date(2026, 9, 1), date(2026, 12, 1))
    assert downgrade.window(date(2027, 2, 15)) == (date(2026, 11, 1), date(2027, 2, 1))


def test_a_rating_in_any_window_month_prevents_the_flag():
    stations = [flag_station("A"), flag_station("B"), flag_station("C"), flag_station("D")]
    monthly = {"A": {"2026-09": 1}, "B": {"2026-11": 3}, "C": {"2026-12": 5}, "D": {"2026-08": 9}}
    found = downgrade.flags(stations, monthly, date(2026, 12, 15))
    assert [f["code"] for f in found] == ["C", "D"]  # December is D's own month; August is before


def test_new_stations_get_their_grace():
    stations = [flag_station("OLD", opened_on="2026-09-01"), flag_station("NEW", opened_on="2026-09-02")]
    assert [f["code"] for f in downgrade.flags(stations, {}, date(2026, 12, 1))] == ["OLD"]


def test_tiers_step_down_and_only_listed_stations_are_flagged():
    stations = [flag_station("N", "national"), flag_station("P", "provincial"),
                flag_station("C", "city"), flag_station("X", "city", status="closed"),
                flag_station("Z", "city", status="delisted")]
    found = downgrade.flags(stations, {}, date(2026, 12, 1))
    assert [(f["code"], f["tier"], f["proposed_tier"]) for f in found] == [
        ("C", "city", "delisted"), ("N", "national", "provincial"), ("P", "provincial", "city")]
    assert set(found[0]) == {"code", "tier", "proposed_tier", "last_rated_at"}
