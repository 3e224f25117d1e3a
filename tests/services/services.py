#!/usr/bin/python3
"""Real Redis and PostgreSQL for tests, started in a temporary dir on free loopback ports.

CLI (what the ctest fixtures run):
    services.py up DIR     start both, write DIR/services.json, print its path
    services.py down DIR   stop exactly the PIDs in DIR/services.json, then remove DIR

DIR/services.json:
    {"redis_url": "redis://127.0.0.1:P", "postgres_url": "postgresql://parley@127.0.0.1:P/postgres",
     "redis_pid": N, "postgres_pid": N, "redis_port": P, "postgres_port": P, "dir": DIR,
     "pg_data": PATH}

Python API (import from tests/services; every call is bounded in time):
    with running_services(dir=None) as s:   # up in a temp dir (or DIR), down on exit
        s.redis_url, s.postgres_url, s.state (the json as a dict)
        s.kill_redis()       # SIGKILL Redis (it keeps nothing: no persistence)
        s.start_redis()      # again, on the same port
        s.stop_postgres(kill=False)  # fast shutdown (SIGINT), or SIGKILL with kill=True
        s.start_postgres()   # again, on the same port and data dir
    Services.load(DIR)       # the services a fixture started (PARLEY_SERVICES_FILE's dir)
    Services.from_env()      # the same, from $PARLEY_SERVICES_FILE; None when unset
    create_database(url, name) # CREATE DATABASE name unless it exists (psql, as parley)

Redis runs without persistence on 127.0.0.1. PostgreSQL 15 (initdb + postgres from
/usr/lib/postgresql/15/bin) listens only on 127.0.0.1, with its unix socket in its data dir, fsync
on, and trust auth for the superuser role `parley` (loopback only). It refuses to run as root, so
when we are root it runs as Debian's `postgres` user (the data dir is chowned to it); otherwise as
ourselves. State changes rewrite services.json, so another process can always find the PIDs.
"""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

PG_BIN = "/usr/lib/postgresql/15/bin"
READY_TIMEOUT_S = 20  # a cold initdb + start takes ~2 s; 20 leaves room for a loaded CI machine
STOP_TIMEOUT_S = 20   # fast shutdown of an idle test cluster takes well under a second


def free_port():
    """A TCP port free on 127.0.0.1 right now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_user():
    """The user PostgreSQL runs as: `postgres` when we are root (it refuses root), else None."""
    return "postgres" if os.geteuid() == 0 else None


def _reachable_by(path, user):
    """Whether `user` (not root) can traverse every ancestor of path (o+x on each dir)."""
    path = os.path.abspath(path)
    while path != "/":
        path = os.path.dirname(path)
        if not os.stat(path).st_mode & 0o001:
            return False
    return True


def _wait(check, what, proc=None, timeout=READY_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout} s")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _stop_pid(pid, sig, timeout=STOP_TIMEOUT_S):
    """Send sig to pid and wait until it is gone (reaping it if it is our child)."""
    if not pid or not _pid_alive(pid):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            if not _pid_alive(pid):
                return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


def _children(pid):
    r = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def _redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Services:
    """One up'd set of services, described by DIR/services.json. Not thread-safe."""

    def __init__(self, directory, state):
        self.dir = os.path.abspath(directory)
        self.state = state

    @property
    def redis_url(self):
        return self.state["redis_url"]

    @property
    def postgres_url(self):
        return self.state["postgres_url"]

    @classmethod
    def load(cls, directory):
        with open(os.path.join(directory, "services.json")) as f:
            return cls(directory, json.load(f))

    @classmethod
    def from_env(cls):
        path = os.environ.get("PARLEY_SERVICES_FILE")
        return cls.load(os.path.dirname(path)) if path else None

    @classmethod
    def up(cls, directory):
        os.makedirs(directory, exist_ok=True)
        s = cls(directory, {"dir": os.path.abspath(directory)})
        try:
            s._init_postgres()
            s.start_postgres()
            s.start_redis()
        except Exception:
            s.down(remove=False)
            raise
        return s

    def _save(self):
        path = os.path.join(self.dir, "services.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.state, f, indent=1)
        os.replace(path + ".tmp", path)

    # Redis ----------------------------------------------------------------------------------
    def start_redis(self):
        port = self.state.get("redis_port") or free_port()
        rdir = os.path.join(self.dir, "redis")
        os.makedirs(rdir, exist_ok=True)
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", rdir, "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.state.update(redis_port=port, redis_pid=proc.pid, redis_url=f"redis://127.0.0.1:{port}")
        self._save()
        _wait(lambda: _redis_ping(port), "redis-server", proc)

    def kill_redis(self):
        _stop_pid(self.state.get("redis_pid"), signal.SIGKILL)
        self.state["redis_pid"] = 0
        self._save()

    # PostgreSQL -----------------------------------------------------------------------------
    def _init_postgres(self):
        data = os.path.join(self.dir, "pg")
        user = _pg_user()
        if user and not _reachable_by(data, user):
            # A build dir under /root: postgres cannot reach it, so its data lives in /tmp.
            data = tempfile.mkdtemp(prefix="parley-pg-")
        os.makedirs(data, mode=0o700, exist_ok=True)
        if user:
            pw = pwd.getpwnam(user)
            os.chown(data, pw.pw_uid, pw.pw_gid)
        self.state["pg_data"] = data
        self._save()
        subprocess.run(
            [f"{PG_BIN}/initdb", "-D", data, "-U", "parley", "--auth=trust", "-E", "UTF8",
             "--no-sync", "--no-instructions"],
            user=user, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            timeout=READY_TIMEOUT_S, cwd=data)
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            # Loopback TCP and the unix socket only, no password: a throwaway test cluster.
            f.write("local all parley trust\nhost all parley 127.0.0.1/32 trust\n")

    def start_postgres(self):
        data = self.state["pg_data"]
        port = self.state.get("postgres_port") or free_port()
        log = open(os.path.join(self.dir, "postgres.log"), "ab")
        proc = subprocess.Popen(
            [f"{PG_BIN}/postgres", "-D", data, "-p", str(port), "-k", data,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=200",
             "-c", "shared_buffers=32MB", "-c", "logging_collector=off"],
            user=_pg_user(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=data)
        log.close()
        self.state.update(postgres_port=port, postgres_pid=proc.pid,
                          postgres_url=f"postgresql://parley@127.0.0.1:{port}/postgres")
        self._save()
        _wait(lambda: self._pg_ready(port), "postgres", proc)

    def _pg_ready(self, port):
        r = subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def stop_postgres(self, kill=False):
        """Fast shutdown (SIGINT: aborts sessions, checkpoints), or SIGKILL with kill=True (a
        crash: the next start recovers from the WAL). Returns once every backend is gone too, so
        start_postgres can follow at once."""
        pid = self.state.get("postgres_pid")
        children = _children(pid) if pid else []
        _stop_pid(pid, signal.SIGKILL if kill else signal.SIGINT)
        for child in children:  # a SIGKILLed postmaster's backends notice and exit on their own
            _wait(lambda: not _pid_alive(child), "postgres backends")
        self.state["postgres_pid"] = 0
        self._save()

    # Both -------------------------------------------------------------------------------------
    def down(self, remove=True):
        self.kill_redis()
        if self.state.get("postgres_pid"):
            self.stop_postgres()
        if remove:
            data = self.state.get("pg_data", "")
            if data and not data.startswith(self.dir + os.sep):
                shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(self.dir, ignore_errors=True)


def create_database(url, name):
    """CREATE DATABASE name on the server at url unless it exists (name: [a-z0-9_] only)."""
    if not name.replace("_", "").isalnum() or name.lower() != name:
        raise ValueError(f"database name {name!r}: use [a-z0-9_]")
    sql = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
    found = subprocess.run([f"{PG_BIN}/psql", url, "-tAc", sql], check=True, capture_output=True,
                           text=True, timeout=READY_TIMEOUT_S).stdout.strip()
    if found != "1":
        subprocess.run([f"{PG_BIN}/psql", url, "-qc", f"CREATE DATABASE {name}"], check=True,
                       capture_output=True, timeout=READY_TIMEOUT_S)


@contextmanager
def running_services(directory=None):
    """Services up for the with-block, in DIR or a fresh temp dir; down (and removed) after."""
    directory = directory or tempfile.mkdtemp(prefix="parley-services-")
    s = Services.up(directory)
    try:
        yield s
    finally:
        s.down()


def main(argv):
    if len(argv) != 3 or argv[1] not in ("up", "down"):
        print("usage: services.py up|down DIR", file=sys.stderr)
        return 2
    directory = argv[2]
    if argv[1] == "up":
        if os.path.exists(os.path.join(directory, "services.json")):
            Services.load(directory).down()  # a previous run's leftovers (a killed ctest)
        s = Services.up(directory)
        print(os.path.join(s.dir, "services.json"))
    elif os.path.exists(os.path.join(directory, "services.json")):
        Services.load(directory).down()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
