"""sd_notify as the Type=notify unit sees it: Parley started with NOTIFY_SOCKET (a datagram
socket this test listens on, as systemd does) sends READY=1 once it accepts connections, and
STOPPING=1 at SIGTERM, then exits 0. Skipped (77) when the binary was built without libsystemd.
  usage: notify_test.py PARLEY_BINARY"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

WAIT = 10  # seconds for any one step


def built_with_libsystemd(binary):
    needed = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    return "libsystemd.so" in needed


def receive(sock, what):
    """The next notification (several variables, one a line); fails unless it has `what`."""
    try:
        message = sock.recv(4096).decode()
    except socket.timeout:
        sys.exit(f"FAIL: no {what} within {WAIT} s")
    assert what in message.splitlines(), f"expected {what}, got {message!r}"
    print(f"PASS {what}:", message.replace("\n", " | "))
    return message


def main(binary):
    if not built_with_libsystemd(binary):
        print("SKIP: built without libsystemd (PARLEY_SYSTEMD=OFF or no libsystemd-dev)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(WAIT)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        proc = subprocess.Popen(
            [binary, "--port", "0", "--data-dir", os.path.join(tmp, "data")],
            env=env, stderr=subprocess.PIPE, text=True)
        try:
            ready = receive(sock, "READY=1")
            port = int(re.search(r"STATUS=listening on http://127\.0\.0\.1:(\d+)", ready).group(1))
            socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
            print("PASS accepts a connection on port", port, "once READY=1 is sent")
            proc.send_signal(signal.SIGTERM)
            receive(sock, "STOPPING=1")
            code = proc.wait(timeout=WAIT)
            assert code == 0, f"exit status {code} after SIGTERM"
            print("PASS exit status 0")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except AssertionError as e:
        sys.exit(f"FAIL: {e}")
