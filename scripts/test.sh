#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what is missing, build, and run every test: the cmocka unit
# tests (meson test, which also replay the fuzz corpora), a short run of
# each libFuzzer target when clang is there, and the integration tests
# in network namespaces.
# Run as root on Debian 12. The last line is "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1
scripts/build.sh || exit 1

passed=0
failed=0
failures=

echo "== unit tests (cmocka)"
out=$(meson test -C build --suite unit --print-errorlogs 2>&1)
rc=$?
echo "$out"
ok=$(echo "$out" | awk '/^Ok:/ { print $2 }')
bad=$(echo "$out" | awk '/^(Fail|Timeout):/ { n += $2 } END { print n + 0 }')
passed=$((passed + ${ok:-0}))
failed=$((failed + bad))
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	failed=$((failed + 1))
fi
[ "$rc" -ne 0 ] && failures="$failures unit"

echo "== unit tests under ASan and UBSan"
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Dsanitize=true -Db_lundef=false >/dev/null
fi
if ninja -C build-asan >/dev/null &&
   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   meson test -C build-asan --suite unit --print-errorlogs >/dev/null; then
	echo "sanitized unit tests: ok"
	passed=$((passed + 1))
else
	meson test -C build-asan --suite unit --print-errorlogs 2>&1 | tail -30
	failed=$((failed + 1))
	failures="$failures sanitized-unit"
fi

echo "== fuzzing (libFuzzer, each target 30 s)"
# A build of its own (clang, sanitizers, coverage hooks in every
# library). Each target starts from its seeds (tests/fuzz/corpus) and
# keeps what it finds new in build-fuzz/corpus; a crash, a sanitizer
# report or a broken invariant leaves its input in build-fuzz/findings.
FUZZ_TARGETS="ntp frame reply conf ctl http nts ntpctl"
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzzing: skipped (no clang)"
elif { [ -f build-fuzz/build.ninja ] ||
       CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false \
	       >/dev/null; } && ninja -C build-fuzz >/dev/null; then
	mkdir -p build-fuzz/findings
	for t in $FUZZ_TARGETS; do
		mkdir -p "build-fuzz/corpus/$t"
		if build-fuzz/tests/fuzz/"fuzz_$t" -max_total_time=30 \
		   -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
		   -artifact_prefix="build-fuzz/findings/$t-" \
		   "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
		   >"build-fuzz/fuzz-$t.log" 2>&1; then
			echo "fuzz_$t: ok ($(awk '/stat::number_of_executed_units/ { print $2 }' "build-fuzz/fuzz-$t.log") runs)"
			passed=$((passed + 1))
		else
			tail -40 "build-fuzz/fuzz-$t.log"
			failed=$((failed + 1))
			failures="$failures fuzz_$t"
		fi
	done
else
	echo "fuzzing: the clang build failed"
	failed=$((failed + 1))
	failures="$failures fuzz-build"
fi

echo "== integration tests"
for t in tests/integration/test_*.sh; do
	echo "-- $t"
	if timeout 300 bash "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures $(basename "$t")"
	fi
done

echo "== soak (2 minutes; scripts/soak.sh 60 for an hour)"
if timeout 600 bash scripts/soak.sh 2; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	failures="$failures soak"
fi

[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
