#!/usr/bin/env bash
# Quick start: installs what is missing, builds Parley and starts it on http://127.0.0.1:8000.
# Flags are passed to the server, e.g. ./scripts/start.sh --port 9000 (see --help).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_need "${build_packages[@]}"
configure_and_build "$repo_root/build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_TESTS=OFF \
  -DPARLEY_BUILD_BENCH=OFF
exec "$repo_root/build/parley" "$@"
