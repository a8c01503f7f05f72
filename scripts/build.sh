#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Configure (once) and build dpntp into ./build. Warnings are errors
# when CI is set. Extra arguments go to `meson setup`.
set -euo pipefail
cd "$(dirname "$0")/.."

opts=()
if [ "${CI:-}" = "true" ]; then
	opts+=(-Dwerror=true)
fi
if [ ! -f build/build.ninja ]; then
	meson setup build "${opts[@]}" "$@" >/dev/null
elif [ "${#opts[@]}" -gt 0 ] || [ "$#" -gt 0 ]; then
	meson configure build "${opts[@]}" "$@" >/dev/null
fi
ninja -C build
