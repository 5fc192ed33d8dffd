"""The Cloudflare stand-in itself (tests/e2e/cloudflare.py), through Prism as the provider
sees it: Cloudflare's behaviour where the provider depends on it, faults, the control API, and
Prism refusing what breaks the contract. Needs Node and Prism, not Terraform or the provider.
"""

import json
import re
import urllib.error
import urllib.request

import pytest

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def result(self):
        return self.body["result"]

    @property
    def codes(self):
        return [e["code"] for e in self.body["errors"]]


def call(cf, method, path, body=None, token=...):
    """One request through Prism, with `cf.token` unless another token (or None) is given."""
    headers = {"Accept": "application/json"}
    token = cf.token if token is ... else token
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(cf.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Answer(resp.status, resp.headers, json.loads(resp.read()))
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.headers, json.loads(e.read()))


def ok(answer):
    assert answer.status == 200, (answer.status, answer.body)
    assert answer.body["success"] is True and answer.body["errors"] == [], answer.body
    return answer.result


def failed(answer, status, code):
    """Cloudflare's failure envelope, with this status and error code."""
    assert answer.status == status, (answer.status, answer.body)
    assert answer.body["success"] is False and answer.body["result"] is None, answer.body
    assert isinstance(answer.body["messages"], list), answer.body
    assert answer.codes == [code], answer.body
    return answer.body["errors"][0]["message"]


@pytest.fixture
def zone(cloudflare_clean):
    return cloudflare_clean.add_zone("example.com")


def records_path(zone_id, record_id=None):
    return f"/zones/{zone_id}/dns_records" + (f"/{record_id}" if record_id else "")


def test_cname_lifecycle(cloudflare_clean, zone):
    cf = cloudflare_clean
    created = ok(call(cf, "POST", records_path(zone), {
        "type": "CNAME", "name": "app", "content": "lb.example.net", "proxied": False, "ttl": 300,
        "comment": "managed by aqemia", "tags": ["owner:aqemia"]}))
    assert re.fullmatch(r"[0-9a-f]{32}", created["id"])
    assert created["name"] == "app.example.com"  # relative names come back fully qualified
    assert (created["type"], created["content"], created["proxied"], created["ttl"]) == ("CNAME", "lb.example.net", False, 300)
    assert created["proxiable"] is True
    assert created["comment"] == "managed by aqemia" and created["tags"] == ["owner:aqemia"]
    assert RFC3339.match(created["created_on"]) and RFC3339.match(created["modified_on"])

    listed = call(cf, "GET", records_path(zone) + "?type=CNAME&name=app.example.com")
    assert [r["id"] for r in ok(listed)] == [created["id"]]
    assert listed.body["result_info"] == {"page": 1, "per_page": 100, "count": 1, "total_count": 1, "total_pages": 1}
    # `name` is exact and fully qualified.
    assert ok(call(cf, "GET", records_path(zone) + "?name=app")) == []
    assert len(ok(call(cf, "GET", records_path(zone) + "?comment=managed%20by%20aqemia"))) == 1
    assert ok(call(cf, "GET", records_path(zone) + "?content=other.example.net")) == []

    assert ok(call(cf, "GET", records_path(zone, created["id"]))) == created

    patched = ok(call(cf, "PATCH", records_path(zone, created["id"]), {"content": "lb2.example.net"}))
    assert patched["content"] == "lb2.example.net" and patched["ttl"] == 300 and patched["comment"] == "managed by aqemia"
    assert patched["created_on"] == created["created_on"] and patched["modified_on"] >= created["modified_on"]

    # PUT replaces the whole record: what it leaves out goes back to the defaults.
    put = ok(call(cf, "PUT", records_path(zone, created["id"]), {
        "type": "CNAME", "name": "app.example.com", "content": "lb3.example.net", "ttl": 120}))
    assert (put["id"], put["content"], put["ttl"], put["proxied"], put["comment"], put["tags"]) == (
        created["id"], "lb3.example.net", 120, False, None, [])

    assert ok(call(cf, "DELETE", records_path(zone, created["id"]))) == {"id": created["id"]}
    assert failed(call(cf, "GET", records_path(zone, created["id"])), 404, 81044) == "Record does not exist."
    failed(call(cf, "DELETE", records_path(zone, created["id"])), 404, 81044)
    assert cf.records(zone) == []


def test_proxied_record_reports_ttl_1(cloudflare_clean, zone):
    cf = cloudflare_clean
    record = ok(call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "@", "content": "lb.example.net",
                                                      "proxied": True, "ttl": 300}))
    assert (record["name"], record["proxied"], record["ttl"]) == ("example.com", True, 1)
    record = ok(call(cf, "PATCH", records_path(zone, record["id"]), {"ttl": 3600}))
    assert record["ttl"] == 1
    record = ok(call(cf, "PATCH", records_path(zone, record["id"]), {"proxied": False, "ttl": 3600}))
    assert (record["proxied"], record["ttl"]) == (False, 3600)


def test_ttl_outside_cloudflares_range_is_refused(cloudflare_clean, zone):
    # 30 passes the contract (Enterprise zones may use it) but not this zone.
    answer = call(cloudflare_clean, "POST", records_path(zone), {"type": "CNAME", "name": "a", "content": "b.example.net", "ttl": 30})
    assert failed(answer, 400, 1004) == "DNS Validation Error"
    assert answer.body["errors"][0]["error_chain"][0]["code"] == 9021


def test_records_sharing_a_name_conflict(cloudflare_clean, zone):
    cf = cloudflare_clean
    ok(call(cf, "POST", records_path(zone), {"type": "A", "name": "www", "content": "192.0.2.1"}))
    message = failed(call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "www", "content": "lb.example.net"}), 400, 81053)
    assert message == "An A, AAAA, or CNAME record with that host already exists."
    cname = ok(call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "app", "content": "lb.example.net"}))
    failed(call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "app.example.com", "content": "lb2.example.net"}), 400, 81053)
    failed(call(cf, "POST", records_path(zone), {"type": "AAAA", "name": "app", "content": "2001:db8::1"}), 400, 81054)
    failed(call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "app", "content": "lb.example.net"}), 400, 81058)
    # Updating a record into a conflict is refused the same way; updating it in place is not.
    www2 = ok(call(cf, "POST", records_path(zone), {"type": "A", "name": "www2", "content": "192.0.2.2"}))
    failed(call(cf, "PATCH", records_path(zone, www2["id"]), {"name": "app"}), 400, 81054)
    ok(call(cf, "PUT", records_path(zone, cname["id"]), {"type": "CNAME", "name": "app", "content": "lb.example.net"}))
    assert len(cf.records(zone)) == 3


def test_zone_the_token_cannot_see(cloudflare_clean, zone):
    cf = cloudflare_clean
    hidden = cf.add_zone("hidden.example", visible=False)
    message = failed(call(cf, "GET", f"/zones/{hidden}"), 403, 9109)
    assert message == "Unauthorized to access requested resource"
    failed(call(cf, "GET", records_path(hidden)), 403, 9109)
    failed(call(cf, "POST", records_path(hidden), {"type": "CNAME", "name": "a", "content": "b.example.net"}), 403, 9109)
    listed = call(cf, "GET", "/zones?name=hidden.example")
    assert ok(listed) == [] and listed.body["result_info"]["total_count"] == 0

    other = cf.add_token(zones=[hidden])
    assert [z["id"] for z in ok(call(cf, "GET", "/zones?name=hidden.example", token=other))] == [hidden]
    failed(call(cf, "GET", f"/zones/{zone}", token=other), 403, 9109)


def test_zones_list_filters_and_pages(cloudflare_clean, zone):
    cf = cloudflare_clean
    ids = {cf.add_zone(f"site{i}.example") for i in range(6)}
    found = call(cf, "GET", "/zones?name=example.com&status=active")
    assert [(z["id"], z["name"], z["status"]) for z in ok(found)] == [(zone, "example.com", "active")]
    assert ok(call(cf, "GET", "/zones?name=example.com&status=pending")) == []
    second = call(cf, "GET", "/zones?name=ends_with:.example&per_page=5&page=2")
    assert len(ok(second)) == 1
    assert second.body["result_info"] == {"page": 2, "per_page": 5, "count": 1, "total_count": 6, "total_pages": 2}
    first = ok(call(cf, "GET", "/zones?name=ends_with:.example&per_page=5"))
    assert {z["id"] for z in first + ok(second)} == ids
    assert ok(call(cf, "GET", f"/zones/{zone}"))["name"] == "example.com"


def test_token_verify(cloudflare_clean):
    result = ok(call(cloudflare_clean, "GET", "/user/tokens/verify"))
    assert result["status"] == "active" and re.fullmatch(r"[0-9a-f]{32}", result["id"])


def test_credentials_are_required(cloudflare_clean, zone):
    cf = cloudflare_clean
    # A token Cloudflare does not know: the fake's 401.
    assert failed(call(cf, "GET", "/zones", token="not-a-token"), 401, 10000) == "Authentication error"
    failed(call(cf, "GET", records_path(zone), token="not-a-token"), 401, 10000)
    # No credentials at all break the contract's security requirement: Prism answers itself.
    assert call(cf, "GET", "/zones", token=None).status == 401
    assert [(v["method"], v["path"], v["kind"]) for v in cf.violations(clear=True)] == [("GET", "/zones", "UNAUTHORIZED")]
    assert [(r["path"], r["status"], r["auth"]) for r in cf.requests()] == [
        ("/zones", 401, True), (records_path(zone), 401, True)]


def test_rate_limit_with_retry_after_then_success(cloudflare_clean, zone):
    cf = cloudflare_clean
    cf.fail(429, count=2, retry_after=7, method="GET", path_contains="/dns_records")
    path = records_path(zone) + "?type=CNAME&name=app.example.com"
    for _ in range(2):
        answer = call(cf, "GET", path)
        failed(answer, 429, 10000)
        assert answer.headers["Retry-After"] == "7"
    assert ok(call(cf, "GET", path)) == []
    assert [(r["status"], r["fault"]) for r in cf.requests()] == [(429, True), (429, True), (200, False)]


def test_rate_limit_without_retry_after(cloudflare_clean, zone):
    cf = cloudflare_clean
    cf.fail(429)
    answer = call(cf, "GET", f"/zones/{zone}")
    failed(answer, 429, 10000)
    assert "Retry-After" not in answer.headers
    ok(call(cf, "GET", f"/zones/{zone}"))


def test_server_error_then_success(cloudflare_clean, zone):
    cf = cloudflare_clean
    cf.fail(502, method="POST")
    body = {"type": "CNAME", "name": "app", "content": "lb.example.net"}
    failed(call(cf, "POST", records_path(zone), body), 502, 10000)
    assert cf.records(zone) == []
    ok(call(cf, "POST", records_path(zone), body))
    # The contract lists no 5xx, so Prism flags the 502; an injected one is no violation.
    assert cf.violations() == []


def test_clear_faults(cloudflare_clean, zone):
    cf = cloudflare_clean
    cf.fail(503, count=5)
    cf.clear_faults()
    ok(call(cf, "GET", f"/zones/{zone}"))


def test_record_changed_behind_the_providers_back(cloudflare_clean, zone):
    cf = cloudflare_clean
    record = ok(call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "app", "content": "lb.example.net", "ttl": 300}))
    changed = cf.change_record(zone, record["id"], content="elsewhere.example.net", proxied=True, comment="edited by hand")
    assert (changed["content"], changed["proxied"], changed["ttl"]) == ("elsewhere.example.net", True, 1)
    read = ok(call(cf, "GET", records_path(zone, record["id"])))
    assert (read["content"], read["proxied"], read["ttl"], read["comment"]) == ("elsewhere.example.net", True, 1, "edited by hand")
    assert read["modified_on"] >= record["modified_on"]
    cf.change_record(zone, record["id"], proxied=False, ttl=600)
    assert ok(call(cf, "GET", records_path(zone, record["id"])))["ttl"] == 600


def test_contract_violations_are_refused_and_reported(cloudflare_clean, zone):
    cf = cloudflare_clean
    answer = call(cf, "GET", "/zones?per_page=500")
    assert answer.status == 422 and "per_page must be <= 50" in json.dumps(answer.body)
    answer = call(cf, "POST", records_path(zone), {"type": "CNAME", "name": "app", "content": "lb.example.net", "proxied": "yes"})
    assert answer.status == 422 and "proxied must be boolean" in json.dumps(answer.body)
    assert [(v["method"], v["path"], v["kind"]) for v in cf.violations()] == [
        ("GET", "/zones", "UNPROCESSABLE_ENTITY"), ("POST", records_path(zone), "UNPROCESSABLE_ENTITY")]
    # Refused before the fake: it saw neither.
    assert cf.requests() == [] and cf.records(zone) == []
    assert len(cf.violations(clear=True)) == 2
    assert cf.violations() == []


def test_an_answer_outside_the_contract_is_caught(cloudflare_clean, zone):
    cf = cloudflare_clean
    # Cloudflare's real rate-limit code, 971, is below the contract's minimum of 1000.
    cf.fail(429, code=971, path_contains="/zones/")
    answer = call(cf, "GET", f"/zones/{zone}")
    assert answer.status == 500 and "errors.0.code must be >= 1000" in json.dumps(answer.body)
    assert [(v["method"], v["path"], v["kind"]) for v in cf.violations(clear=True)] == [("GET", f"/zones/{zone}", "VIOLATIONS")]


def test_request_log_never_holds_the_token(cloudflare_clean, zone):
    cf = cloudflare_clean
    ok(call(cf, "GET", f"/zones/{zone}"))
    assert cf.requests() == [{"method": "GET", "path": f"/zones/{zone}", "status": 200, "auth": True, "fault": False}]
    assert cf.token not in cf.fake_log.read_text() + cf.prism_log.read_text()


def test_reset_forgets_everything(cloudflare_clean, zone):
    cf = cloudflare_clean
    old_token = cf.token
    ok(call(cf, "POST", records_path(zone), {"type": "TXT", "name": "_acme-challenge", "content": "token-value"}))
    cf.fail(500, count=3)
    cf.reset()
    assert cf.token != old_token
    failed(call(cf, "GET", "/zones", token=old_token), 401, 10000)
    assert ok(call(cf, "GET", "/zones")) == []
    assert cf.requests() == [{"method": "GET", "path": "/zones", "status": 401, "auth": True, "fault": False},
                             {"method": "GET", "path": "/zones", "status": 200, "auth": True, "fault": False}]
