"""A stateful fake of Cloudflare's zones and DNS records API (v4), for the end-to-end tests.

It is meant to run behind `prism proxy --errors` serving Cloudflare's own OpenAPI description
(tests/e2e/cloudflare.py starts both): Prism checks every request and response against the
contract, and this fake supplies what a schema cannot, the behaviour: zones visible per API
token, read-after-write, fully qualified names, proxied records reporting `ttl: 1`, the
A/AAAA/CNAME conflict errors, and the failure envelope with Cloudflare's own error codes.

API paths are at the root, as Prism serves them (no /client/v4 prefix):

    GET /zones                                      name, status, page, per_page, order, direction
    GET /zones/{zone_id}
    GET, POST /zones/{zone_id}/dns_records          type, name, content, comment, proxied, match,
                                                    page, per_page, order, direction
    GET, PUT, PATCH, DELETE /zones/{zone_id}/dns_records/{dns_record_id}
    GET /user/tokens/verify

A query parameter the contract allows but the fake does not model is refused with a 400 that
says so, rather than ignored: an ignored filter would answer more than Cloudflare does.

Failures, as HTTP status / error code:

    401 / 10000   no Authorization: Bearer with a known token ("Authentication error")
    403 / 9109    a zone the token cannot see, or no zone with that id
    400 / 7003    a zone id that is not 32 hex digits
    404 / 81044   no record with that id ("Record does not exist.")
    400 / 81053   a CNAME where an A, AAAA or CNAME of that name exists
    400 / 81054   an A or AAAA where a CNAME of that name exists
    400 / 81058   a record identical to one that exists (type, name, content)
    400 / 1004    "DNS Validation Error", the cause in error_chain: 9021 TTL not 1 or 60..86400,
                  9004 proxied on a type that cannot be, 9005 A/AAAA content not an address
                  of its family, 9000 type, name or content missing
    400 / 9207    a body that is not JSON, or a field of the wrong type
    400 / 1001    something the fake does not model (a record type, a filter, an order)
    404 / 7000, 405 / 7001   a path or method outside the API
    429, 5xx      injected faults (10000 unless the fault names a code); 500 / 10001 a bug here
Prism refuses most of the 9000, 9207 and 7000 cases before they arrive.

The control API for the tests (not part of Cloudflare's, so call it directly, not through Prism),
JSON in and out:

    POST   /__control/zones                       {"name", "tokens": [token, ...]} -> {"id", "name"}
    GET    /__control/zones                       every zone, with the tokens that see it
    POST   /__control/tokens                      {"token"?, "zones"?: [zone id, ...]} -> {"token", "id"}
    GET    /__control/zones/{id}/records          the zone's records, as the API shows them
    PATCH  /__control/zones/{id}/records/{rid}    change content, proxied, ttl, comment or tags
                                                  behind the client's back -> the record
    POST   /__control/faults                      {"status", "count", "retry_after", "method",
                                                   "path_contains", "code", "message"}
    GET    /__control/faults                      the faults not yet spent
    DELETE /__control/faults
    GET    /__control/requests                    [{"method", "path", "status", "auth", "fault"}]
    POST   /__control/reset                       forgets zones, tokens, records, faults, requests

Every API request is also printed to stdout as one JSON line (the same fields), after the
first line `listening 127.0.0.1:PORT`. Tokens are never logged: `auth` only says whether an
Authorization header came with the request.

Standard library only: python cloudflare_fake.py [--host 127.0.0.1] [--port 0]
"""

import argparse
import datetime
import ipaddress
import json
import math
import re
import secrets
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ACCOUNT = {"id": "9a7806061c88ada191ed06f989cc3dac", "name": "Stand-in account"}
OWNER = {"id": "7c5dae5552338874e5053f2534d2767a", "type": "user", "name": "standin@example.com"}
NAME_SERVERS = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]
# The zone schema's name pattern: a zone name outside it would make every zone response invalid.
ZONE_NAME = re.compile(r"^([a-zA-Z0-9][\-a-zA-Z0-9]*\.)+[\-a-zA-Z0-9]{2,20}$")
IDENTIFIER = re.compile(r"^[0-9a-f]{32}$")
PROXIABLE = {"A", "AAAA", "CNAME"}
# Types whose schema is just name + content; the others need `data` or `priority`.
MODELLED_TYPES = {"A", "AAAA", "CNAME", "TXT", "NS", "PTR"}
ADDRESS_TYPES = {"A", "AAAA"}
RECORD_FIELDS = {"type", "name", "content", "proxied", "ttl", "comment", "tags", "settings"}


class ApiError(Exception):
    """An answer with Cloudflare's failure envelope."""

    def __init__(self, status, code, message, chain=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.chain = status, code, message, chain
        self.headers = headers or {}

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.chain:
            error["error_chain"] = [{"code": c, "message": m} for c, m in self.chain]
        return {"success": False, "errors": [error], "messages": [], "result": None}


def validation_error(code, message):
    # How Cloudflare reports a bad record: 1004 with the specific cause in error_chain.
    return ApiError(400, 1004, "DNS Validation Error", chain=[(code, message)])


def not_modelled(what):
    return ApiError(400, 1001, f"cloudflare_fake does not model {what}")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id():
    return secrets.token_hex(16)


def success(result, result_info=None):
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def page_of(items, query, default_per_page):
    """One page of `items` and its result_info; page and per_page as the client sent them
    (Prism has checked them against the contract's bounds)."""
    try:
        page = int(float(query.get("page", 1)))
        per_page = int(float(query.get("per_page", default_per_page)))
    except ValueError:
        raise ApiError(400, 1001, "page and per_page must be numbers") from None
    if page < 1 or per_page < 1:
        raise ApiError(400, 1001, "page and per_page must be at least 1")
    chunk = items[(page - 1) * per_page:page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    return chunk, info


def check_params(query, allowed):
    for key in query:
        if key not in allowed:
            raise not_modelled(f"the query parameter {key!r}")


def sort_by(items, query, orders, default):
    order = query.get("order", default)
    if order not in orders:
        raise not_modelled(f"order={order}")
    direction = query.get("direction", "asc")
    if direction not in ("asc", "desc"):
        raise ApiError(400, 1001, "direction must be asc or desc")
    return sorted(items, key=orders[order], reverse=direction == "desc")


# Cloudflare's operators for the zone name filter: "name=starts_with:dev" and so on.
NAME_OPERATORS = {
    "equal": lambda v, x: v.lower() == x.lower(),
    "not_equal": lambda v, x: v.lower() != x.lower(),
    "starts_with": lambda v, x: v.lower().startswith(x.lower()),
    "ends_with": lambda v, x: v.lower().endswith(x.lower()),
    "contains": lambda v, x: x.lower() in v.lower(),
    "starts_with_case_sensitive": lambda v, x: v.startswith(x),
    "ends_with_case_sensitive": lambda v, x: v.endswith(x),
    "contains_case_sensitive": lambda v, x: x in v,
}


def name_matches(value, pattern):
    operator, sep, operand = pattern.partition(":")
    if sep and operator in NAME_OPERATORS:
        return NAME_OPERATORS[operator](value, operand)
    return NAME_OPERATORS["equal"](value, pattern)


def hostname(name):
    name = name.strip().rstrip(".").lower()
    # Cloudflare stores and returns names in Punycode.
    return name if name.isascii() else name.encode("idna").decode("ascii")


class Zone:
    def __init__(self, name):
        self.id = new_id()
        self.name = hostname(name)
        self.created_on = now()
        self.records = {}  # id -> Record

    def view(self):
        # Every property the contract's zone schema requires, plus what the live API also sends.
        return {
            "id": self.id,
            "name": self.name,
            "status": "active",
            "paused": False,
            "type": "full",
            "development_mode": 0,
            "name_servers": NAME_SERVERS,
            "original_name_servers": None,
            "original_registrar": None,
            "original_dnshost": None,
            "created_on": self.created_on,
            "modified_on": self.created_on,
            "activated_on": self.created_on,
            "meta": {"step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3, "phishing_detected": False},
            "owner": OWNER,
            "account": ACCOUNT,
            "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
        }

    def fqdn(self, name):
        """A record name as Cloudflare stores it: "@" or "" is the apex, a name outside the
        zone is taken as relative to it."""
        name = hostname(name)
        if name in ("", "@"):
            return self.name
        if name == self.name or name.endswith("." + self.name):
            return name
        return f"{name}.{self.name}"


class Record:
    def __init__(self, fields):
        self.id = new_id()
        self.created_on = self.modified_on = now()
        self.type, self.name, self.content = fields["type"], fields["name"], fields["content"]
        self.proxied, self.ttl = fields["proxied"], fields["ttl"]
        self.comment, self.tags, self.settings = fields["comment"], fields["tags"], fields["settings"]

    def fields(self):
        return {k: getattr(self, k) for k in RECORD_FIELDS}

    def replace(self, fields):
        for key, value in fields.items():
            setattr(self, key, value)
        self.modified_on = now()

    def view(self):
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "content": self.content,
            "proxiable": self.type in PROXIABLE,
            "proxied": self.proxied,
            "ttl": self.ttl,
            "settings": self.settings,
            "meta": {},
            "comment": self.comment,
            "tags": list(self.tags),
            "created_on": self.created_on,
            "modified_on": self.modified_on,
        }


def record_fields(zone, body, base):
    """The stored fields of a record from a request body: `base` (the record's current fields
    for PATCH, the defaults for POST and PUT) with the body's fields over it, normalised and
    checked as Cloudflare does."""
    if not isinstance(body, dict):
        raise ApiError(400, 9207, "Request body is invalid.")
    fields = dict(base)
    fields.update({k: v for k, v in body.items() if k in RECORD_FIELDS})
    for key in ("type", "name", "content"):
        if not isinstance(fields.get(key), str) or not fields[key]:
            raise validation_error(9000, f"DNS record {key} is required.")
    rtype = fields["type"] = fields["type"].upper()
    if rtype not in MODELLED_TYPES:
        raise not_modelled(f"{rtype} records")
    fields["name"] = zone.fqdn(fields["name"])
    content = fields["content"].strip()
    if rtype in ADDRESS_TYPES:
        try:
            address = ipaddress.ip_address(content)
        except ValueError:
            address = None
        if address is None or address.version != (4 if rtype == "A" else 6):
            version = "IPv4" if rtype == "A" else "IPv6"
            raise validation_error(9005, f"Content for {rtype} record is invalid. Must be a valid {version} address.")
        content = str(address)
    elif rtype in ("CNAME", "NS", "PTR"):
        content = content.rstrip(".")
    fields["content"] = content
    if not isinstance(fields["proxied"], bool):
        raise ApiError(400, 9207, "Request body is invalid.")
    if fields["proxied"] and rtype not in PROXIABLE:
        raise validation_error(9004, "This record type cannot be proxied.")
    ttl = fields["ttl"]
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl != int(ttl):
        raise validation_error(9021, "TTL must be between 60 and 86400 seconds, or 1 for Automatic.")
    ttl = int(ttl)
    if ttl != 1 and not 60 <= ttl <= 86400:
        raise validation_error(9021, "TTL must be between 60 and 86400 seconds, or 1 for Automatic.")
    # A proxied record's TTL is Cloudflare's ("Automatic"): a TTL sent with it is not kept.
    fields["ttl"] = 1 if fields["proxied"] else ttl
    if fields["comment"] is not None and not isinstance(fields["comment"], str):
        raise ApiError(400, 9207, "Request body is invalid.")
    if not isinstance(fields["tags"], list) or not all(isinstance(t, str) for t in fields["tags"]):
        raise ApiError(400, 9207, "Request body is invalid.")
    if not isinstance(fields["settings"], dict):
        raise ApiError(400, 9207, "Request body is invalid.")
    # Copies: DEFAULTS and the request body are shared.
    fields["tags"], fields["settings"] = list(fields["tags"]), dict(fields["settings"])
    return fields


def check_conflicts(zone, fields, own_id=None):
    """Cloudflare's rules for records sharing a name, in the order it applies them."""
    for other in zone.records.values():
        if other.id == own_id or other.name != fields["name"]:
            continue
        if other.type == fields["type"] and other.content.lower() == fields["content"].lower():
            raise ApiError(400, 81058, "An identical record already exists.")
    for other in zone.records.values():
        if other.id == own_id or other.name != fields["name"]:
            continue
        if fields["type"] == "CNAME" and other.type in ("A", "AAAA", "CNAME"):
            raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        if fields["type"] in ADDRESS_TYPES and other.type == "CNAME":
            raise ApiError(400, 81054, "A CNAME record with that host already exists.")


DEFAULTS = {"proxied": False, "ttl": 1, "comment": None, "tags": [], "settings": {}}

RECORD_ORDERS = {
    "type": lambda r: (r.type, r.name, r.content),
    "name": lambda r: (r.name, r.type, r.content),
    "content": lambda r: (r.content, r.type, r.name),
    "ttl": lambda r: (r.ttl, r.type, r.name),
    "proxied": lambda r: (r.proxied, r.type, r.name),
}
ZONE_ORDERS = {"name": lambda z: z.name}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.zones = {}  # id -> Zone
        self.tokens = {}  # token -> {"id", "zones": set of zone ids}
        self.faults = []
        self.requests = []

    # ---- API ---------------------------------------------------------------------------------

    def authenticate(self, header):
        scheme, _, token = (header or "").partition(" ")
        entry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None:
            raise ApiError(401, 10000, "Authentication error")
        return entry

    def zone(self, auth, zone_id):
        if not IDENTIFIER.match(zone_id):
            raise ApiError(400, 7003, f"Could not route to /zones/{zone_id}, perhaps your object identifier is invalid?")
        # Cloudflare does not tell a zone that does not exist from one the token cannot see.
        if zone_id not in auth["zones"] or zone_id not in self.zones:
            raise ApiError(403, 9109, "Unauthorized to access requested resource")
        return self.zones[zone_id]

    def record(self, zone, record_id):
        record = zone.records.get(record_id)
        if record is None:
            raise ApiError(404, 81044, "Record does not exist.")
        return record

    def handle(self, method, path, query, auth_header, body):
        parts = [p for p in path.split("/") if p]
        if parts == ["user", "tokens", "verify"] and method == "GET":
            auth = self.authenticate(auth_header)
            result = {"id": auth["id"], "status": "active"}
            answer = success(result)
            answer["messages"] = [{"code": 10000, "message": "This API Token is valid and active", "type": None}]
            return answer
        if not parts or parts[0] != "zones" or len(parts) > 4 or (len(parts) > 2 and parts[2] != "dns_records"):
            raise ApiError(404, 7000, "No route for that URI")
        auth = self.authenticate(auth_header)
        if len(parts) == 1 and method == "GET":
            return self.list_zones(auth, query)
        zone = self.zone(auth, parts[1])
        if len(parts) == 2 and method == "GET":
            return success(zone.view())
        if len(parts) == 3 and method == "GET":
            return self.list_records(zone, query)
        if len(parts) == 3 and method == "POST":
            fields = record_fields(zone, body, DEFAULTS)
            check_conflicts(zone, fields)
            record = Record(fields)
            zone.records[record.id] = record
            return success(record.view())
        if len(parts) == 4:
            record = self.record(zone, parts[3])
            if method == "GET":
                return success(record.view())
            if method in ("PUT", "PATCH"):
                fields = record_fields(zone, body, DEFAULTS if method == "PUT" else record.fields())
                check_conflicts(zone, fields, own_id=record.id)
                record.replace(fields)
                return success(record.view())
            if method == "DELETE":
                del zone.records[record.id]
                return success({"id": record.id})
        raise ApiError(405, 7001, f"Method {method} not available for that URI.")

    def list_zones(self, auth, query):
        check_params(query, {"name", "status", "page", "per_page", "order", "direction"})
        zones = [self.zones[z] for z in auth["zones"] if z in self.zones]
        if "name" in query:
            zones = [z for z in zones if name_matches(z.name, query["name"])]
        if "status" in query and query["status"] != "active":
            zones = []
        zones = sort_by(zones, query, ZONE_ORDERS, "name")
        chunk, info = page_of(zones, query, 20)
        return success([z.view() for z in chunk], info)

    def list_records(self, zone, query):
        check_params(query, {"type", "name", "content", "comment", "proxied", "match", "page", "per_page", "order", "direction"})
        tests = []
        if "type" in query:
            tests.append(lambda r: r.type == query["type"].upper())
        if "name" in query:
            # Exact and fully qualified: a relative name matches nothing, as on Cloudflare.
            tests.append(lambda r: r.name == hostname(query["name"]))
        if "content" in query:
            tests.append(lambda r: r.content == query["content"])
        if "comment" in query:
            tests.append(lambda r: (r.comment or "").lower() == query["comment"].lower())
        if "proxied" in query:
            tests.append(lambda r: r.proxied == (query["proxied"] == "true"))
        combine = any if query.get("match", "all") == "any" else all
        records = [r for r in zone.records.values() if not tests or combine(t(r) for t in tests)]
        records = sort_by(records, query, RECORD_ORDERS, "type")
        chunk, info = page_of(records, query, 100)
        return success([r.view() for r in chunk], info)

    def take_fault(self, method, path):
        for fault in self.faults:
            if fault["method"] and fault["method"].upper() != method:
                continue
            if fault["path_contains"] and fault["path_contains"] not in path:
                continue
            fault["count"] -= 1
            if fault["count"] <= 0:
                self.faults.remove(fault)
            headers = {}
            if fault["status"] == 429 and fault["retry_after"] is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            return ApiError(fault["status"], fault["code"], fault["message"], headers=headers)
        return None

    # ---- control -----------------------------------------------------------------------------

    def control(self, method, parts, body):
        if not isinstance(body, dict):
            raise ApiError(400, 1001, "the control API takes a JSON object")
        if parts == ["reset"] and method == "POST":
            self.reset()
            return {"reset": True}
        if parts == ["zones"] and method == "POST":
            name = body.get("name", "")
            if not ZONE_NAME.match(name):
                raise ApiError(400, 1001, f"zone name {name!r} does not match the contract's zone name pattern")
            unknown = [t for t in body.get("tokens", []) if t not in self.tokens]
            if unknown:
                raise ApiError(400, 1001, f"{len(unknown)} of the tokens are unknown: add them first")
            zone = Zone(name)
            self.zones[zone.id] = zone
            for token in body.get("tokens", []):
                self.tokens[token]["zones"].add(zone.id)
            return {"id": zone.id, "name": zone.name}
        if parts == ["zones"] and method == "GET":
            return [
                {**z.view(), "tokens": sorted(t for t, e in self.tokens.items() if z.id in e["zones"])}
                for z in self.zones.values()
            ]
        if parts == ["tokens"] and method == "POST":
            token = body.get("token") or secrets.token_urlsafe(30)
            self.tokens[token] = {"id": new_id(), "zones": set(body.get("zones", []))}
            return {"token": token, "id": self.tokens[token]["id"]}
        if len(parts) == 3 and parts[0] == "zones" and parts[2] == "records" and method == "GET":
            return [r.view() for r in self.control_zone(parts[1]).records.values()]
        if len(parts) == 4 and parts[0] == "zones" and parts[2] == "records" and method == "PATCH":
            zone = self.control_zone(parts[1])
            record = self.record(zone, parts[3])
            unknown = set(body) - {"content", "proxied", "ttl", "comment", "tags"}
            if unknown:
                raise ApiError(400, 1001, f"cannot change {sorted(unknown)} through the control API")
            # Through the same checks as the API, so the record stays one Cloudflare could hold.
            record.replace(record_fields(zone, body, record.fields()))
            return record.view()
        if parts == ["faults"] and method == "POST":
            status = int(body["status"])
            if status != 429 and not 500 <= status <= 599:
                raise ApiError(400, 1001, "a fault's status is 429 or 5xx")
            self.faults.append({
                "status": status,
                "count": int(body.get("count", 1)),
                "retry_after": body.get("retry_after"),
                "method": body.get("method"),
                "path_contains": body.get("path_contains"),
                # Cloudflare answers 429 with code 971, but the contract wants codes >= 1000.
                "code": int(body.get("code") or 10000),
                "message": body.get("message") or ("Please wait and consider throttling your request speed"
                                                   if status == 429 else "Internal server error"),
            })
            return self.faults
        if parts == ["faults"] and method == "GET":
            return self.faults
        if parts == ["faults"] and method == "DELETE":
            self.faults = []
            return self.faults
        if parts == ["requests"] and method == "GET":
            return self.requests
        raise ApiError(404, 7000, "No route for that URI")

    def control_zone(self, zone_id):
        if zone_id not in self.zones:
            raise ApiError(404, 1001, f"no zone {zone_id}")
        return self.zones[zone_id]


class Handler(BaseHTTPRequestHandler):
    server_version = "cloudflare-fake"
    state = None  # set in main

    def do_request(self):
        url = urlsplit(self.path)
        control = url.path.startswith("/__control/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fault, headers = None, {}
        try:
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError(400, 9207, "Request body is invalid.") from None
            with self.state.lock:
                if control:
                    answer = self.state.control(self.command, [p for p in url.path.split("/")[2:] if p], body)
                else:
                    fault = self.state.take_fault(self.command, self.path)
                    if fault is not None:
                        raise fault
                    query = dict(parse_qsl(url.query, keep_blank_values=True))
                    answer = self.state.handle(self.command, url.path, query, self.headers.get("Authorization"), body)
            status = 200
        except ApiError as e:
            status, answer, headers = e.status, e.body(), e.headers
        except Exception:  # a bug in the fake: logged, and answered as Cloudflare answers its own
            traceback.print_exc(file=sys.stderr)
            status, answer = 500, ApiError(500, 10001, "cloudflare_fake failed, see its stderr").body()
        if not control:
            entry = {"method": self.command, "path": self.path, "status": status,
                     "auth": "Authorization" in self.headers, "fault": fault is not None}
            with self.state.lock:
                self.state.requests.append(entry)
                # Logged before the answer goes out, so whoever reads the log after the answer finds it.
                print(json.dumps(entry), flush=True)
        self.reply(status, answer, headers)

    def reply(self, status, answer, headers=None):
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_request

    def log_message(self, format, *args):
        pass  # one JSON line per request instead, from do_request


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    Handler.state = State()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"listening {host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
