"""Before timing anything: does each variant route as the benchmark's rule
says? A benchmark of a filter that does not work measures nothing."""

import http.client

from envoy_config import BASELINE, CANARY, ROUTING_HEADER

HOST = "pay-service"
WEIGHT = 0.20
# The trace every load request carries (wrk/requests.lua gets it as its
# argument), recorded in LANE before (cl) is timed.
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
LANE = "gray"


def bucket(release, key):
    """core/src/bucket.rs: fmix64(FNV-1a-64(name ++ 0xFF ++ key)) % 10000."""
    mask = (1 << 64) - 1
    h = 0xCBF29CE484222325
    for byte in release.encode() + b"\xff" + key.encode():
        h = ((h ^ byte) * 0x100000001B3) & mask
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & mask
    h ^= h >> 33
    return h % 10000


class Client:
    """One keep-alive connection to a front listener."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def served_by(self, path="/api/orders", **headers):
        sent = {"Host": HOST, "X-App-Version": "2.4.1"}
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        self.conn.request("GET", path, headers=sent)
        reply = self.conn.getresponse()
        return reply.read().decode().strip()

    def close(self):
        self.conn.close()


def check(variant, port, anonymous=200):
    """The problems found (empty: it routes as it should)."""
    problems = []
    client = Client(port)
    try:
        rule_hits = [
            ("header env: test", {"env": "test"}, "/api/orders"),
            ("query uid=1002", {}, "/checkout?uid=1002"),
            ("x-app-version regex", {"X_App_Version": "2.10.3-beta"}, "/api/orders"),
        ]
        for what, headers, path in rule_hits:
            got = client.served_by(path, **headers)
            if got != CANARY:
                problems.append(f"{what}: served by {got!r}, want {CANARY}")
        if variant["sticky"]:
            for n in range(1, 31):
                user = f"user-{n}"
                want = CANARY if bucket("pay", user) < WEIGHT * 10000 else BASELINE
                spoof = BASELINE if want == CANARY else CANARY
                got = client.served_by(X_User_Id=user, **{ROUTING_HEADER.replace("-", "_"): spoof})
                if got != want:
                    problems.append(f"sticky {user} (client sent {spoof}): {got!r}, want {want}")
        # 4 sigma binomial bounds around the weight.
        canary = sum(client.served_by() == CANARY for _ in range(anonymous))
        sigma = (anonymous * WEIGHT * (1 - WEIGHT)) ** 0.5
        if abs(canary - anonymous * WEIGHT) > 4 * sigma:
            problems.append(f"weight: {canary}/{anonymous} to the canary, want about {WEIGHT:.0%}")
    except (OSError, http.client.HTTPException) as error:
        problems.append(f"request failed: {error}")
    finally:
        client.close()
    return problems



def record_lane(inbound_port, outbound_port, lane_headers):
    """Records TRACEPARENT's trace in LANE through the INBOUND listener (one
    lane header per copy of the stack: `lane_headers`), then
    checks it took: a sticky user whose bucket is the baseline, sent with
    that traceparent to the OUTBOUND listener, must reach the lane's canary.
    The problems found (empty: every timed request is a lane hit)."""
    user = next(f"user-{n}" for n in range(1, 1000) if bucket("pay", f"user-{n}") >= WEIGHT * 10000)
    problems = []
    inbound, outbound = Client(inbound_port), Client(outbound_port)
    try:
        before = outbound.served_by(X_User_Id=user, traceparent=TRACEPARENT)
        if before != BASELINE:
            problems.append(f"before the record: {user} served by {before!r}, want {BASELINE}")
        inbound.served_by(traceparent=TRACEPARENT,
                          **{header.replace("-", "_"): LANE for header in lane_headers})
        after = outbound.served_by(X_User_Id=user, traceparent=TRACEPARENT)
        if after != CANARY:
            problems.append(f"after the record: {user} served by {after!r}, want {CANARY} "
                            f"(lane {LANE})")
    except (OSError, http.client.HTTPException) as error:
        problems.append(f"request failed: {error}")
    finally:
        inbound.close()
        outbound.close()
    return problems
