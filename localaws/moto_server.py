"""`python -m localaws.moto_server -H 127.0.0.1 -p PORT`: moto in server mode, made to behave like AWS where the
platform depends on it (localaws.kinesis_patches) and taught the CloudFormation types it lacks (localaws.models)."""

from __future__ import annotations

import sys

from moto import server

from localaws import kinesis_patches, models

if __name__ == "__main__":
    kinesis_patches.apply()
    models.apply()
    server.main(sys.argv[1:])
