#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then runs the unit, integration and browser
# tests (ctest), the shared protocol check (check.py) against a real Parley, and the unit and
# integration tests again under ThreadSanitizer. Exits non-zero when anything fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_need "${build_packages[@]}" nodejs npm chromium python3 python3-websockets curl procps

echo "== build (release, with tests)"
configure_and_build "$repo_root/build-test" -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== browser test dependencies (npm ci)"
(cd "$repo_root/tests/e2e" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)

echo "== shared protocol check (check.py) against Parley"
"$repo_root/scripts/check-protocol.sh" "$repo_root/build-test/parley"

echo "== ctest: unit, integration, browser"
ctest --test-dir "$repo_root/build-test" --output-on-failure -j 2 --timeout 600

echo "== ThreadSanitizer build: unit and integration tests"
configure_and_build "$repo_root/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=thread \
  -DPARLEY_BUILD_BENCH=OFF
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir "$repo_root/build-tsan" --output-on-failure -j 2 --timeout 900 -E 'e2e'
