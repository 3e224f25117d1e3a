#!/usr/bin/env bash
# What `cmake --install` lays out, and the systemd unit checked by systemd-analyze: `verify`
# accepts it, and `security` rates its exposure at most 2.0 ("OK"). Also: every key of the
# example parley.toml passes `parley config check`.
#   usage: unit_check.sh BUILD_DIR
# Exits 77 (ctest: skipped) when systemd-analyze is missing (Debian: apt-get install systemd).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: unit_check.sh BUILD_DIR}" && pwd)
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze (apt-get install systemd)"; exit 77; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR=$root cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
unit_dir=$(sed -n 's/^PARLEY_SYSTEMD_UNIT_DIR:PATH=//p' "$build/CMakeCache.txt")
config_dir=$(sed -n 's/^PARLEY_CONFIG_DIR:PATH=//p' "$build/CMakeCache.txt")
for f in "$prefix/bin/parley" "$prefix/share/parley/web/index.html" \
  "$prefix/share/parley/web/lib/parley-client.js" "$config_dir/parley.toml" \
  "$unit_dir/parley.service"; do
  [ -e "$root$f" ] || { echo "FAIL: cmake --install did not lay out $f"; exit 1; }
  echo "installed: $f"
done

# verify needs the unit's ExecStart to exist: point it at the binary just installed under $root.
unit=$root/check/parley.service
mkdir -p "$root/check"
sed "s|^ExecStart=$prefix/bin/parley|ExecStart=$root$prefix/bin/parley|" \
  "$root$unit_dir/parley.service" >"$unit"
grep -q "^ExecStart=$root" "$unit" || { echo "FAIL: no ExecStart=$prefix/bin/parley in the unit"; exit 1; }
for line in Type=notify DynamicUser=yes StateDirectory=parley ProtectSystem=strict \
  LimitNOFILE=20000 "Environment=PARLEY_DATA_DIR=/var/lib/parley"; do
  grep -qx "$line" "$unit" || { echo "FAIL: the unit lacks $line"; exit 1; }
done
systemd-analyze verify "$unit"
echo "PASS: systemd-analyze verify accepts parley.service"
systemd-analyze security --offline=yes --threshold=20 "$unit" | tail -n 1
echo "PASS: systemd-analyze security rates it at most 2.0"

# The example config is one the installed binary reads (every key a flag, every value valid).
"$root$prefix/bin/parley" config check "$root$config_dir/parley.toml" \
  || { echo "FAIL: parley config check rejects the installed parley.toml"; exit 1; }
echo "PASS: parley config check accepts the installed parley.toml"
