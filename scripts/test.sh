#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then runs the unit, integration, conformance,
# browser, store and client library tests (ctest), the package tests (the .deb in a fresh Debian
# 12 root, the systemd unit, the Dockerfile), the shared protocol check (check.py) against a real
# Parley, the integration, conformance and store suites again against the server built with
# ThreadSanitizer and with AddressSanitizer+UBSan (the unit tests too), and a bounded libFuzzer
# run of every fuzz target. Exits non-zero when anything fails or any sanitizer reports.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_need "${build_packages[@]}" chromium python3 python3-websockets curl procps clang-14 \
  libclang-rt-14-dev strace debootstrap systemd dpkg-dev file binutils haproxy \
  python3-yaml postgresql-15 redis-server  # tests/services: the real PostgreSQL and Redis

need_node
root_traversable

section "build (release, with tests)"
# -O2 without debug info: the largest compile of the run, and CI's budget is 25 minutes.
configure_and_build "$repo_root/build-test" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG"

section "browser test and client library dependencies (npm ci)"
(cd "$repo_root/tests/e2e" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
(cd "$repo_root/clients/js" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)

section "shared protocol check (check.py) against Parley"
"$repo_root/scripts/check-protocol.sh" "$repo_root/build-test/parley"

section "ctest: unit, integration, browser, store, client library"
ctest --test-dir "$repo_root/build-test" --output-on-failure -j 2 --timeout 600 -LE package

# The .deb built by CPack and installed in a fresh Debian 12 root (../shared/tools/fresh-debian,
# its base cached in /var/cache/fresh-debian), the unit under systemd-analyze, sd_notify, the
# Dockerfile's structure. A test that cannot run here (not root, no shared folder) says why and
# is skipped.
section "package: the .deb in a fresh Debian 12 root, the systemd unit, the Dockerfile"
ctest --test-dir "$repo_root/build-test" --output-on-failure --timeout 600 -L package

# The sanitizer runs build the server (and the unit tests) with the sanitizer and run the
# integration and conformance suites built above against that server: what is checked is the
# server's code under real traffic; the test binaries need no second build. Every report goes to
# a file, so one in a server that still passed its test fails the run too.
reports="$repo_root/build-test/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
fail_on_reports() {
  if compgen -G "$reports/*" >/dev/null; then
    cat "$reports"/* >&2
    echo "sanitizer reports above (in $reports)" >&2
    exit 1
  fi
}
# store.fsync is left out: it runs the server under strace, and LeakSanitizer cannot work
# under ptrace (it counts real fsyncs, which a sanitized build does not change).
suites_against() {
  PARLEY_BINARY="$1" ctest --test-dir "$repo_root/build-test" --output-on-failure -j 2 \
    --timeout 900 -L 'integration|conformance|store' -E '^store\.fsync$'
}

section "ThreadSanitizer: the server under the integration, conformance and store suites"
configure_and_build "$repo_root/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=thread \
  -DPARLEY_BUILD_BENCH=OFF -DPARLEY_BUILD_TESTS=OFF
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$reports/tsan" \
  suites_against "$repo_root/build-tsan/parley"
fail_on_reports

section "AddressSanitizer+UBSan: the unit tests, and the server under the suites"
configure_and_build "$repo_root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=address \
  -DPARLEY_BUILD_BENCH=OFF -- parley parley_unit_tests
export ASAN_OPTIONS="detect_leaks=1 abort_on_error=1 log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 log_path=$reports/ubsan"
ctest --test-dir "$repo_root/build-asan" --output-on-failure -j 2 --timeout 900 -L unit
suites_against "$repo_root/build-asan/parley"
unset ASAN_OPTIONS UBSAN_OPTIONS
fail_on_reports

section "fuzz smoke: every libFuzzer target from its corpus (clang, ASan+UBSan)"
"$repo_root/fuzz/run.sh" "${PARLEY_FUZZ_SECONDS:-20}"
section "all passed"
