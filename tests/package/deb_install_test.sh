#!/usr/bin/env bash
# The .deb as a user meets it: CPack builds it from BUILD_DIR, then a fresh Debian 12 root made
# by the shared fresh-debian tool (its debootstrap base is cached) installs it with apt, and
# in_root.sh checks the layout and chats with /usr/bin/parley (chat_check.py).
#   usage: deb_install_test.sh BUILD_DIR
# Exits 77 (ctest: skipped) with the reason when it cannot run here: not root, inside fresh-debian's root, no shared folder
# beside the repository (PARLEY_SHARED_DIR overrides), no debootstrap, no dpkg-shlibdeps or file.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: deb_install_test.sh BUILD_DIR}" && pwd)
shared=${PARLEY_SHARED_DIR:-$here/../../../shared}
tool=$shared/tools/fresh-debian

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root: fresh-debian mounts /proc and chroots"
# Inside fresh-debian's own root (the clean clone it checks the whole test command on, at
# /root/project with the shared folder at /root/shared) a second root would be debootstrapped
# inside the first: that run leaves the .deb to the runs on the machine itself (CI's).
if [ "$(cd "$here/../.." && pwd)" = /root/project ] && [ -d /root/shared ]; then
  skip "inside fresh-debian's root: the .deb is installed in a fresh root by the run on the machine"
fi
[ -x "$tool" ] || skip "no $tool (the shared folder beside the repository; PARLEY_SHARED_DIR)"
command -v debootstrap >/dev/null || skip "no debootstrap (apt-get install debootstrap)"
command -v dpkg-shlibdeps >/dev/null && command -v file >/dev/null \
  || skip "CPack's Depends needs dpkg-shlibdeps and file (apt-get install dpkg-dev file)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SECONDS=0
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"
  echo "FAIL: cpack -G DEB"
  exit 1
fi
deb=$(ls "$work"/cpack/parley_*.deb)
echo "built $(basename "$deb") in ${SECONDS}s"
dpkg-deb -f "$deb" Package Version Depends Maintainer

# fresh-debian runs a command on a clone of a repository: a throwaway one holding the package.
mkdir "$work/repo"
cp "$deb" "$work/repo/parley.deb"
cp "$here/in_root.sh" "$here/chat_check.py" "$work/repo/"
git -C "$work/repo" init -q
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=test -c user.email=test@localhost commit -qm package
"$tool" "$work/repo" ./in_root.sh
echo "PASS: the .deb installs in a fresh Debian 12 root and serves chat (${SECONDS}s)"
