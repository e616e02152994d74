#!/usr/bin/env python3
"""Requests through the router while Mayfly restarts: failed requests and the longest gap between two answers.

Cases (each with a fresh data directory, examples/hello deployed, 2 clients looping GET / with keep-alive):
  sigterm    mayfly server gets SIGTERM, then the same command starts it again
  sigkill    mayfly server gets SIGKILL, then the same command starts it again
  upgrade    mayfly server stops and a build with another version string starts (its embedded agent is upgraded)
  agent      a remote agent (server --no-agent) is replaced: by `mayfly agent --take-over` from the other build when
             the jar has it, else by stopping it and starting the other build (what older builds can do)

Usage: bench/restart.py JAR [CASE ...]   (default: every case). Needs git, make and the example's compiler.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stop_instances import kill_everything  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def java():
    home = os.environ.get("JAVA_HOME")
    return os.path.join(home, "bin", "java") if home else "java"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def other_version(jar, work):
    """A copy of the jar whose version.properties says another version: a second build, as an upgrade brings."""
    copy = os.path.join(work, "mayfly-upgrade.jar")
    with zipfile.ZipFile(jar) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "io/mayfly/wire/version.properties":
                data = b"version=9.9.9-upgrade\n"
            dst.writestr(item, data)
    return copy


class Loop:
    """Clients looping GET / through the router; counts answers, failures and the longest gap between two 200s."""

    def __init__(self, port, app, clients=2):
        self.port, self.host = port, app + ".localhost:%d" % port
        self.ok = self.failed = 0
        self.gap = 0.0
        self.last = time.monotonic()
        self.running = True
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def run(self):
        conn = None
        n = 0
        while self.running and n < 200_000:
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/", headers={"Host": self.host})
                r = conn.getresponse()
                r.read()
                good = r.status == 200
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                good = False
                if conn is not None:
                    conn.close()
                conn = None
            now = time.monotonic()
            with self.lock:
                if good:
                    self.ok += 1
                    self.gap = max(self.gap, now - self.last)
                    self.last = now
                else:
                    self.failed += 1
            if not good:
                time.sleep(0.01)  # a refused connection returns at once: do not spin

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join()


class Server:
    def __init__(self, jar, data, extra=()):
        self.jar, self.data, self.extra = jar, data, list(extra)
        self.api, self.router = free_port(), free_port()
        self.proc = None

    def start(self, jar=None):
        if jar:
            self.jar = jar
        path = os.path.join(self.data, "server.json")
        if os.path.exists(path):
            os.remove(path)
        log = open(self.data + "-server.log", "a")
        self.proc = subprocess.Popen([java(), "-jar", self.jar, "server", "--data", self.data, "--listen", "127.0.0.1:%d" % self.api,
                                      "--router", "127.0.0.1:%d" % self.router] + self.extra, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            if os.path.exists(path):
                try:
                    if self.call("GET", "/api/v1/info")[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise SystemExit("mayfly server did not start; see " + self.data + "-server.log")

    def token(self):
        return open(os.path.join(self.data, "admin.token")).read().strip()

    def call(self, method, path, body=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.api, path), method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + self.token(), "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def signal(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(60)


def deploy(server, app, work):
    status, body = server.call("POST", "/api/v1/apps", {"name": app})
    assert status == 201, body
    repo = os.path.join(work, app)
    shutil.copytree(os.path.join(ROOT, "examples", "hello"), repo, ignore=shutil.ignore_patterns("hello", "*.o"))
    run = lambda *a: subprocess.run(a, cwd=repo, check=True, capture_output=True)
    run("git", "init", "-q")
    run("git", "add", "-A")
    run("git", "-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", app)
    run("git", "push", "-q", "http://mayfly:%s@127.0.0.1:%d/git/%s.git" % (server.token(), server.api, app), "HEAD:main")


def has_take_over(jar):
    out = subprocess.run([java(), "-jar", jar, "agent", "--help"], capture_output=True, text=True).stdout
    return "--take-over" in out


def case(name, jar, work):
    data = os.path.join(work, name, "data")
    os.makedirs(data)
    extra = ["--no-agent"] if name == "agent" else []
    server = Server(jar, data, extra)
    server.start()
    agents = []
    try:
        port = server.router
        if name == "agent":
            status, body = server.call("POST", "/api/v1/tokens", {"scope": "agent", "agent": "edge"})
            token = json.loads(body)["secret"] if status // 100 == 2 else None
            assert token, body
            port = free_port()
            adata = os.path.join(work, name, "agent")
            cmd = lambda j, *more: [java(), "-jar", j, "agent", "--server", "http://127.0.0.1:%d" % server.api, "--token", token,
                                    "--name", "edge", "--capacity", "1024", "--router", "127.0.0.1:%d" % port, "--data", adata] + list(more)
            agents.append(subprocess.Popen(cmd(jar), stdout=open(adata + ".log", "a"), stderr=subprocess.STDOUT))
            for _ in range(600):
                status, body = server.call("GET", "/api/v1/agents")
                if status == 200 and '"up"' in body:
                    break
                time.sleep(0.1)
        deploy(server, "steady", os.path.join(work, name))
        loop = Loop(port, "steady")
        time.sleep(1)
        if name == "sigterm":
            server.signal(signal.SIGTERM)
            server.start()
        elif name == "sigkill":
            server.signal(signal.SIGKILL)
            server.start()
        elif name == "upgrade":
            server.signal(signal.SIGTERM)
            server.start(other_version(jar, os.path.join(work, name)))
        else:
            upgrade = other_version(jar, os.path.join(work, name))
            if has_take_over(upgrade):
                new = subprocess.Popen(cmd(upgrade, "--take-over"), stdout=open(adata + ".log", "a"), stderr=subprocess.STDOUT)
                agents[0].wait(90)
            else:
                agents[0].send_signal(signal.SIGTERM)
                agents[0].wait(60)
                new = subprocess.Popen(cmd(upgrade), stdout=open(adata + ".log", "a"), stderr=subprocess.STDOUT)
            agents.append(new)
        time.sleep(3)  # and a little more, served by what took over
        loop.stop()
        print("%-8s %8d %8d %10.0f" % (name, loop.ok + loop.failed, loop.failed, loop.gap * 1000), flush=True)
    finally:
        for a in agents:
            if a.poll() is None:
                a.kill()
        if server.proc.poll() is None:
            server.proc.kill()
        kill_everything(data)
        kill_everything(os.path.join(work, name, "agent"))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    jar = os.path.abspath(sys.argv[1])
    cases = sys.argv[2:] or ["sigterm", "sigkill", "upgrade", "agent"]
    work = tempfile.mkdtemp(prefix="mayfly-restart-")
    print("%-8s %8s %8s %10s" % ("case", "requests", "failed", "gap (ms)"))
    try:
        for name in cases:
            case(name, jar, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("(gap: the longest time between two answered requests, any client; 1 s before and 3 s after the event counted)")


if __name__ == "__main__":
    main()
