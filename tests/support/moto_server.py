"""Entry point of the moto server used by the tests and the rehearsal: moto with `moto_patches` applied."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import moto_patches
from moto import server

if __name__ == "__main__":
    moto_patches.apply()
    server.main(sys.argv[1:])
