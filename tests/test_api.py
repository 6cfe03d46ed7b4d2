"""The public station JSON and the health check."""


def test_station_json_has_the_contract_fields(client, stations_loaded):
    body = client.get("/api/v1/stations/ST-001").get_json()
    assert {"code", "name", "district", "tier", "status", "ratings_total", "satisfaction_rate",
            "last_rated_at", "latitude", "longitude", "kind", "amenities"} <= set(body)
    assert (body["code"], body["name"], body["tier"], body["status"]) == (
        "ST-001", "人民广场驿站", "national", "listed")
    assert body["amenities"] == ["water", "microwave", "sofa"]


def test_unknown_station_json_is_a_404_json(client, stations_loaded):
    response = client.get("/api/v1/stations/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"


def test_healthz_answers_when_the_database_does(client):
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_is_gone(client, app, db):
    db.conn.close()  # this thread's connection: the next query fails as a broken disk would
    response = client.get("/healthz")
    assert response.status_code == 503
