#!/usr/bin/python3
"""compose.yaml's structure, checked without a container engine (none runs on the test machines):
Redis, PostgreSQL 15 and HAProxy from official images pinned by tag; three Parley nodes built from
the repository's Dockerfile, each with its own --node-id and the same --store postgres,
--postgres-url (the postgres service, its user and database), --cluster-redis (the redis service)
and --trusted-proxies naming HAProxy's fixed address on the network; HAProxy the only service
with a published port, its configuration file present, sending PROXY v2 to each node and
checking /healthz, and accepted by Debian's `haproxy -c`.
  usage: compose_check.py compose.yaml"""
import ipaddress
import os
import re
import subprocess
import sys

import yaml


def flag(command, name):
    return command[command.index(name) + 1] if name in command else None


def check(path):
    root = os.path.dirname(os.path.abspath(path))
    compose = yaml.safe_load(open(path))
    services = compose.get("services", {})
    problems = []
    for name, prefix in (("redis", "docker.io/library/redis:"), ("postgres", "docker.io/library/postgres:15"),
                         ("haproxy", "docker.io/library/haproxy:")):
        image = services.get(name, {}).get("image", "")
        if not image.startswith(prefix) or image.endswith(":latest"):
            problems.append(f"{name}: image {image!r}, want an official {prefix}<tag>")
    haproxy = services.get("haproxy", {})
    proxy_ip = next(iter(haproxy.get("networks", {}).values()), {}).get("ipv4_address")
    if not proxy_ip:
        problems.append("haproxy has no fixed ipv4_address for --trusted-proxies to name")
    postgres_env = services.get("postgres", {}).get("environment", {})
    nodes = sorted(n for n in services if re.fullmatch(r"node\d+", n))
    if nodes != ["node1", "node2", "node3"]:
        problems.append(f"nodes {nodes}, want node1..node3")
    for name in nodes:
        node = services[name]
        command = node.get("command", [])
        if node.get("build") != ".":
            problems.append(f"{name}: not built from the repository's Dockerfile (build: .)")
        if flag(command, "--node-id") != name:
            problems.append(f"{name}: --node-id {flag(command, '--node-id')}")
        if flag(command, "--store") != "postgres":
            problems.append(f"{name}: --store {flag(command, '--store')}, want postgres")
        url = flag(command, "--postgres-url") or ""
        want = (f"postgresql://{postgres_env.get('POSTGRES_USER')}:{postgres_env.get('POSTGRES_PASSWORD')}"
                f"@postgres:5432/{postgres_env.get('POSTGRES_DB')}")
        if url != want:
            problems.append(f"{name}: --postgres-url {url!r}, want {want!r}")
        if flag(command, "--cluster-redis") != "redis://redis:6379":
            problems.append(f"{name}: --cluster-redis {flag(command, '--cluster-redis')!r}")
        trusted = flag(command, "--trusted-proxies") or ""
        if not proxy_ip or not any(ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(n, strict=False)
                                   for n in trusted.split(",") if n):
            problems.append(f"{name}: --trusted-proxies {trusted!r} does not name HAProxy's {proxy_ip}")
        if "ports" in node:
            problems.append(f"{name}: publishes ports; only HAProxy should face clients")
    for name in ("redis", "postgres"):
        if "ports" in services.get(name, {}):
            problems.append(f"{name}: publishes ports")
    mounts = [v.split(":") for v in haproxy.get("volumes", [])]
    config = next((os.path.join(root, m[0]) for m in mounts if m[1].endswith("haproxy.cfg")), None)
    if not config or not os.path.isfile(config):
        problems.append(f"haproxy: no configuration file mounted ({mounts})")
    else:
        text = open(config).read()
        for need in ("balance leastconn", "option httpchk GET /healthz", "timeout tunnel", "send-proxy-v2"):
            if need not in text:
                problems.append(f"{config}: no `{need}`")
        servers = re.findall(r"^\s*server\s+(\S+)\s+(\S+):8000", text, re.M)
        if sorted(s for s, _ in servers) != nodes or any(s != h for s, h in servers):
            problems.append(f"{config}: servers {servers}, want one per node at NAME:8000")
        result = subprocess.run(["haproxy", "-c", "-q", "-f", config], capture_output=True, text=True,
                                timeout=30)
        if result.returncode != 0:
            problems.append(f"haproxy -c {config}: {result.stdout}{result.stderr}")
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "compose.yaml"
    problems = check(path)
    for p in problems:
        print("FAIL:", p)
    if problems:
        sys.exit(1)
    print(f"PASS: {path}: Redis, PostgreSQL, three nodes and HAProxy (PROXY v2) as intended")


if __name__ == "__main__":
    main()
