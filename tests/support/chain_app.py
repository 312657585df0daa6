"""The services of the lanes chain (tests/support/chain.rs), one process.

Reads a JSON list of apps on the first line of stdin:
  [{"service": "order", "version": "v2", "next": "pay",
    "sidecar": 40123, "forward": ["traceparent"]}, ...]
binds each app on a free loopback port, prints {"order-v2": <port>, ...} as
one JSON line, then serves until stdin closes (the test process ended).

An app answers GET with JSON {"path": [{"service", "version", "lane",
"trace"}, ...]}: its own hop, then the hops of its call to `next` (sent to
its sidecar's outbound listener, port `sidecar`, with Host `next`). The call
carries only the headers in `forward`, as a real app forwards only what its
tracing library knows: `traceparent` leaves with the same trace id and a
new span id (a new hop), any other header as it came.
"""

import http.client
import http.server
import json
import os
import secrets
import sys
import threading

LANE_HEADER = "x-canary-lane"


def next_traceparent(value):
    """The traceparent a tracing library sends on: same trace, new span."""
    fields = value.split("-")
    if len(fields) < 4:
        return value
    fields[2] = secrets.token_hex(8)
    return "-".join(fields)


def make_handler(app):
    local = threading.local()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            hop = {
                "service": app["service"],
                "version": app["version"],
                "lane": self.headers.get(LANE_HEADER),
                "trace": self.headers.get("traceparent"),
            }
            path, status = [hop], 200
            if app.get("next"):
                try:
                    status, rest = self.call_next()
                    path += rest
                except (OSError, http.client.HTTPException, ValueError) as e:
                    status = 502
                    path.append({"error": f"{type(e).__name__}: {e}"})
            self.answer(status, {"path": path})

        def call_next(self):
            headers = {"host": app["next"]}
            for name in app["forward"]:
                value = self.headers.get(name)
                if value is not None:
                    if name == "traceparent":
                        value = next_traceparent(value)
                    headers[name] = value
            for attempt in (1, 2):
                connection = getattr(local, "connection", None)
                if connection is None:
                    connection = http.client.HTTPConnection(
                        "127.0.0.1", app["sidecar"], timeout=10
                    )
                    local.connection = connection
                try:
                    connection.request("GET", self.path, headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                    break
                except (OSError, http.client.HTTPException):
                    # A kept-alive connection the sidecar closed: once more.
                    connection.close()
                    local.connection = None
                    if attempt == 2:
                        raise
            if response.status != 200:
                return response.status, [
                    {"error": f"{app['next']} answered {response.status}",
                     "body": body.decode("utf-8", "replace")[:200]}
                ]
            return 200, json.loads(body)["path"]

        def answer(self, status, document):
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main():
    apps = json.loads(sys.stdin.readline())
    ports = {}
    for app in apps:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(app))
        server.daemon_threads = True
        ports[f"{app['service']}-{app['version']}"] = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(ports), flush=True)
    # The test process holds our stdin: when it ends, so do we.
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
