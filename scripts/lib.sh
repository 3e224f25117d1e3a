# Shared by the quick-start scripts: installing what is missing and building.
# Sourced, not run. Works as root on a fresh Debian 12, and as a user with sudo.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_need PACKAGE...: installs the Debian packages that are not installed yet.
apt_need() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >&2
  fi
}

# need_node: Node.js and npm for the browser tests. A machine that already has them (NodeSource's
# nodejs bundles npm, and Debian's npm package conflicts with it) keeps its own; otherwise Debian's.
need_node() {
  command -v node >/dev/null && command -v npm >/dev/null || apt_need nodejs npm
}

# root_traversable: PostgreSQL refuses to run as root, so the tests and cluster.sh run it as the
# `postgres` user, which must be able to traverse `/` to run anything at all. Debian's `/` is
# mode 755; a root made from a mode-700 temporary folder (a chroot unpacked from `mktemp -d`)
# is not, and gets Debian's mode back.
root_traversable() {
  if [ $(( $(stat -c '%#a' /) & 1 )) -eq 0 ]; then
    echo "/ is mode $(stat -c %a /): made 755 (Debian's), so the postgres user can run" >&2
    as_root chmod 755 /
  fi
}

# What building the server needs (Debian 12 package names).
build_packages=(g++ make cmake pkgconf ca-certificates libboost1.81-dev libcli11-dev
  libspdlog-dev libfmt-dev libssl-dev libgtest-dev libsqlite3-dev libsystemd-dev
  libtomlplusplus-dev libhiredis-dev libpq-dev)

# section TITLE: a heading in the log, with the time spent so far (CI's budget is 25 minutes).
section() {
  printf '== %s [%dm%02ds]\n' "$1" $((SECONDS / 60)) $((SECONDS % 60))
}

# forget_foreign_cache DIR SOURCE: a build folder configured for another source tree (a checkout
# copied or moved with its build folders inside) stops CMake with "The current CMakeCache.txt
# directory ... is different". Its CMakeCache.txt and CMakeFiles/ are removed then, so that the
# next cmake configures DIR afresh for SOURCE (the objects stay: ccache and make reuse them).
forget_foreign_cache() {
  local dir="$1" source="$2" cache="$1/CMakeCache.txt" home build
  [ -f "$cache" ] || return 0
  home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
  build=$(sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$cache")
  same_dir "$home" "$source" && same_dir "$build" "$dir" && return 0
  echo "$dir was configured for ${home:-another source tree}: configuring it again for $source" >&2
  rm -rf "$cache" "$dir/CMakeFiles"
}

# same_dir A B: true when the paths name the same existing folder.
same_dir() {
  [ -n "$1" ] && [ -d "$1" ] && [ -d "$2" ] && [ "$(cd "$1" && pwd -P)" = "$(cd "$2" && pwd -P)" ]
}

# configure_and_build DIR [CMAKE ARGS...] [-- TARGET...]: configures DIR and builds the targets
# (all when none is named).
configure_and_build() {
  local dir="$1" configure=() targets=()
  shift
  while (($#)) && [ "$1" != "--" ]; do configure+=("$1"); shift; done
  (($#)) && shift && targets=(--target "$@")
  forget_foreign_cache "$dir" "$repo_root"
  cmake -S "$repo_root" -B "$dir" "${configure[@]}" >/dev/null
  cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
}
