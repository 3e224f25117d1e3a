#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz and runs each one for
# SECONDS (default 30) from its seed corpus in fuzz/corpus/<target>/. Exits non-zero when a
# build fails or any target finds a crash, a leak, a sanitizer report or a timeout.
#
#   fuzz/run.sh            # the smoke run: 5 targets x 30 s
#   fuzz/run.sh 3600       # a long run; new inputs go to build-fuzz/corpus-new/<target>/
#
# Environment: CXX (default clang++-14, else clang++), FUZZ_BUILD_DIR (default
# <repo>/build-fuzz), FUZZ_JOBS (compile jobs, default 2), FUZZ_TARGETS (default all five).
set -euo pipefail

seconds="${1:-30}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$fuzz_dir")"
build_dir="${FUZZ_BUILD_DIR:-$repo_root/build-fuzz}"
source_dir="${FUZZ_SOURCE_DIR:-$repo_root}"
jobs="${FUZZ_JOBS:-2}"
targets=(${FUZZ_TARGETS:-fuzz_ws_reader fuzz_request_parser fuzz_static_files fuzz_session
  fuzz_proxy_header})

cxx="${CXX:-}"
if [[ -z "$cxx" ]]; then
  if command -v clang++-14 >/dev/null; then cxx=clang++-14; else cxx=clang++; fi
fi
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }

echo "== fuzz: build ($cxx) in $build_dir"
source "$repo_root/scripts/lib.sh"  # forget_foreign_cache: a copied or moved checkout
forget_foreign_cache "$build_dir" "$source_dir"
cmake -S "$source_dir" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARLEY_FUZZ=ON -DPARLEY_BUILD_TESTS=OFF -DPARLEY_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"

binary_of() { find "$build_dir" -type f -name "$1" -perm -u+x | head -n 1; }

failed=()
for target in "${targets[@]}"; do
  binary="$(binary_of "$target")"
  seeds="$fuzz_dir/corpus/${target#fuzz_}"
  found="$build_dir/corpus-new/${target#fuzz_}"
  artifacts="$build_dir/artifacts/${target#fuzz_}"
  mkdir -p "$found" "$artifacts" "$seeds"
  dict=()
  [[ -f "$fuzz_dir/dict/${target#fuzz_}.dict" ]] && dict=(-dict="$fuzz_dir/dict/${target#fuzz_}.dict")
  echo "== fuzz: $target for ${seconds}s (seeds: $(ls "$seeds" | wc -l))"
  # New inputs go to the first corpus folder (build-fuzz), never into the committed seeds.
  if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
      "$binary" "$found" "$seeds" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$build_dir/$target.log" 2>&1; then
    echo "!! $target failed; its log ($build_dir/$target.log) ends:"
    tail -n 40 "$build_dir/$target.log"
    echo "!! crashing inputs in $artifacts/"
    failed+=("$target")
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$build_dir/$target.log" | tail -n 2 || true
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
