#!/bin/sh
# Install the wheels built by build-wheels.sh from $1, offline: the runtime image never reaches an index.
set -eu
python -m pip install --quiet --no-cache-dir --no-index --find-links "$1" iot-processor
