"""The Dockerfile's structure, checked without a container engine (none runs on the test
machines): a build stage and a runtime stage, each FROM pinned by a tag (never `latest` or none),
the runtime on debian:12-slim with only runtime libraries, a USER that is not root before the
ENTRYPOINT, a HEALTHCHECK on /healthz, the data VOLUME and EXPOSE 8000.
  usage: dockerfile_check.py Dockerfile"""
import re
import sys


def instructions(text):
    """(KEYWORD, arguments) per instruction, with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    return [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if " " in l.strip() else "")
            for l in (l.strip() for l in text.splitlines()) if l]


def check(path):
    steps = instructions(open(path).read())
    problems = []
    froms = [args.split()[0] for key, args in steps if key == "FROM"]
    if len(froms) < 2:
        problems.append(f"one stage ({froms}): want a build stage and a runtime stage")
    for image in froms:
        if ":" not in image or image.endswith(":latest"):
            problems.append(f"FROM {image}: pin a tag, not latest")
    if froms and froms[-1] != "debian:12-slim":
        problems.append(f"the runtime stage is {froms[-1]}, not debian:12-slim")
    runtime = steps[max(i for i, (key, _) in enumerate(steps) if key == "FROM"):]
    runtime_text = " ".join(args for _, args in runtime)
    for dev in re.findall(r"\b[\w.+-]+-dev\b|\bg\+\+|\bcmake\b", runtime_text):
        problems.append(f"the runtime stage installs a build tool or -dev package: {dev}")
    users = [args.strip() for key, args in runtime if key == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"USER in the runtime stage is {users[-1] if users else 'unset (root)'}")
    keys = [key for key, _ in runtime]
    if "USER" in keys and "ENTRYPOINT" in keys and keys.index("USER") > keys.index("ENTRYPOINT"):
        problems.append("USER comes after ENTRYPOINT")
    health = [args for key, args in runtime if key == "HEALTHCHECK"]
    if not health or "/healthz" not in health[0]:
        problems.append("no HEALTHCHECK on /healthz")
    if not any(key == "VOLUME" and "/var/lib/parley" in args for key, args in runtime):
        problems.append("no VOLUME /var/lib/parley")
    if not any(key == "EXPOSE" and "8000" in args.split() for key, args in runtime):
        problems.append("no EXPOSE 8000")
    return problems


if __name__ == "__main__":
    found = check(sys.argv[1])
    for problem in found:
        print("FAIL:", problem)
    if not found:
        print("PASS: two stages pinned by tag, debian:12-slim runtime without build packages, "
              "a non-root USER, HEALTHCHECK on /healthz, VOLUME /var/lib/parley, EXPOSE 8000")
    sys.exit(1 if found else 0)
