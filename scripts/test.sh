#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then runs the unit, integration and browser
# tests (ctest), the shared protocol check (check.py) against a real Parley, and the unit and
# integration tests again under ThreadSanitizer (conformance tests too). Exits non-zero when
# anything fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_need "${build_packages[@]}" chromium python3 python3-websockets curl procps

need_node

echo "== build (release, with tests)"
configure_and_build "$repo_root/build-test" -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== browser test dependencies (npm ci)"
(cd "$repo_root/tests/e2e" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)

echo "== shared protocol check (check.py) against Parley"
"$repo_root/scripts/check-protocol.sh" "$repo_root/build-test/parley"

echo "== ctest: unit, integration, browser"
ctest --test-dir "$repo_root/build-test" --output-on-failure -j 2 --timeout 600

echo "== ThreadSanitizer build: unit, integration and conformance tests"
configure_and_build "$repo_root/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=thread \
  -DPARLEY_BUILD_BENCH=OFF
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir "$repo_root/build-tsan" --output-on-failure -j 2 --timeout 900 -E 'e2e'

# The longer checks of the hardening work, off by default to keep CI within its time:
# PARLEY_TEST_EXTRAS=1 ./scripts/test.sh adds an AddressSanitizer+UBSan run of the unit,
# integration and conformance tests and a libFuzzer smoke run (fuzz/run.sh, 30 s per target).
if [ "${PARLEY_TEST_EXTRAS:-0}" = 1 ]; then
  echo "== AddressSanitizer+UBSan build: unit, integration and conformance tests"
  configure_and_build "$repo_root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=address \
    -DPARLEY_BUILD_BENCH=OFF
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    ctest --test-dir "$repo_root/build-asan" --output-on-failure -j 2 --timeout 900 -E 'e2e'
  echo "== fuzz smoke (libFuzzer + ASan/UBSan)"
  apt_need clang-14 libclang-rt-14-dev
  "$repo_root/fuzz/run.sh" "${PARLEY_FUZZ_SECONDS:-30}"
fi
