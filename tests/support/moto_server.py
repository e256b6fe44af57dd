"""Entry point of the moto server used by the tests and the rehearsal: moto with `moto_patches` and `moto_models`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # moto files models by package: tests.support

import moto_patches
from moto import server

from tests.support import moto_models

if __name__ == "__main__":
    moto_patches.apply()
    moto_models.apply()
    server.main(sys.argv[1:])
