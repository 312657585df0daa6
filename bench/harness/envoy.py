"""Starting, probing and stopping Envoy processes pinned to one core."""

import http.client
import os
import socket
import subprocess
import time


def free_ports(count):
    """Loopback ports the kernel says are free now (each bound, then let go)."""
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def get(port, path, headers=None, timeout=5.0):
    """(status, body) of GET path on 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, reply.read().decode(errors="replace")
    finally:
        conn.close()


class Envoy:
    """One Envoy process: `--concurrency 1`, pinned with taskset, its log in
    a file. Ready once the admin /ready says LIVE."""

    def __init__(self, binary, config, log, admin_port, core, extra_args=()):
        self.admin_port = admin_port
        self.log = log
        args = ["taskset", "-c", str(core), binary, "-c", config, "--concurrency", "1",
                "--disable-hot-restart", "--log-level", "warning", *extra_args]
        self.started = time.perf_counter()
        with open(log, "w", encoding="utf-8") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self.process.pid

    def ready(self):
        try:
            status, body = get(self.admin_port, "/ready", timeout=1.0)
        except OSError:
            return False
        return status == 200 and body.startswith("LIVE")

    def wait_ready(self, timeout=60.0, poll=0.005):
        """Seconds from start to ready; raises with the log's tail if Envoy
        exits or is not ready in time."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Envoy exited during start-up:\n{self.tail()}")
            if self.ready():
                return time.perf_counter() - self.started
            time.sleep(poll)
        raise RuntimeError(f"Envoy not ready after {timeout} s:\n{self.tail()}")

    def cpu_seconds(self):
        """utime + stime of the whole process, from /proc/<pid>/stat."""
        with open(f"/proc/{self.pid}/stat", encoding="utf-8") as stat:
            # The command name may hold spaces: fields start after its ")".
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stats(self, prefix):
        """{name: value} of the counters starting with prefix."""
        _, body = get(self.admin_port, f"/stats?filter=^{prefix}")
        out = {}
        for line in body.splitlines():
            name, _, value = line.partition(": ")
            if value.strip().isdigit():
                out[name] = int(value)
        return out

    def tail(self, lines=30):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
