#!/usr/bin/env bash
# A checkout copied or moved with its build folder inside: scripts/lib.sh's configure step must
# configure that folder again instead of stopping at CMake's "CMakeCache.txt directory is
# different". Checked with the real cmake on a one-file project (seconds, not a Parley build):
# configured and built in a/, moved to b/, configured and built again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a"
cat >"$work/a/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(moved CXX)
add_executable(moved main.cpp)
CMAKE
echo 'int main() { return 0; }' >"$work/a/main.cpp"
cmake -S "$work/a" -B "$work/a/build" >/dev/null
cmake --build "$work/a/build" >/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }

# A cache made for this very folder is kept.
forget_foreign_cache "$work/a/build" "$work/a"
[ -f "$work/a/build/CMakeCache.txt" ] || fail "the cache of a folder in place was removed"

# Copied: the old tree still exists, the cache names it.
cp -a "$work/a" "$work/copy"
if cmake -S "$work/copy" -B "$work/copy/build" >/dev/null 2>&1; then
  fail "cmake accepted a copied cache: this test no longer shows the problem"
fi
forget_foreign_cache "$work/copy/build" "$work/copy"
[ ! -e "$work/copy/build/CMakeCache.txt" ] || fail "the copied cache was kept"
cmake -S "$work/copy" -B "$work/copy/build" >/dev/null || fail "configure after the copy"
cmake --build "$work/copy/build" >/dev/null || fail "build after the copy"

# Moved: the tree the cache names is gone.
mv "$work/a" "$work/b"
forget_foreign_cache "$work/b/build" "$work/b"
[ ! -e "$work/b/build/CMakeFiles" ] || fail "the moved build's CMakeFiles was kept"
cmake -S "$work/b" -B "$work/b/build" >/dev/null || fail "configure after the move"
cmake --build "$work/b/build" >/dev/null || fail "build after the move"
"$work/b/build/moved" || fail "the rebuilt program"
echo "PASS: copied and moved build folders are configured again"
