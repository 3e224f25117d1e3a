#!/bin/bash
# Runs inside the fresh Debian 12 root (deb_install_test.sh): installs parley.deb the way a user
# would, with apt pulling the Depends that CPack computed, checks the layout, then chats with the
# installed /usr/bin/parley (chat_check.py). No systemd in a chroot: the binary is started directly.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq --no-install-recommends ./parley.deb python3-websockets >/tmp/apt.log 2>&1 \
  || { cat /tmp/apt.log; echo "FAIL: apt-get install ./parley.deb"; exit 1; }
dpkg-query -W -f='installed: ${Package} ${Version}\nDepends: ${Depends}\n' parley
for f in /usr/bin/parley /usr/share/parley/web/index.html /usr/share/parley/web/lib/parley-client.js \
  /etc/parley/parley.toml \
  /lib/systemd/system/parley.service /usr/share/doc/parley/copyright; do
  [ -e "$f" ] || { echo "FAIL: $f is not installed"; exit 1; }
done
/usr/bin/parley --version
python3 chat_check.py /usr/bin/parley
