#!/bin/sh
# Build wheels for the processor and its pinned dependencies into $1.
# The Dockerfile's build stage runs this, and so does tests/processor/test_image.py (no Docker engine here).
set -eu
out="$1"
here="$(cd "$(dirname "$0")/.." && pwd)"
python -m pip wheel --quiet --no-cache-dir --wheel-dir "$out" -r "$here/requirements.txt"
python -m pip wheel --quiet --no-cache-dir --no-deps --wheel-dir "$out" "$here"
