"""The processor container's contract: THE one list of what the image reads and offers.

Every environment variable the processor reads is named here, once, and `processor.config` reads variables only
through these names. The CDK side (lib/, as `platform_config.contract`) and the local emulator import this module to
build the task definitions and the local environment, so it stays standard-library only and import-light: importing
it must never pull in boto3, psycopg or FastAPI.

Commands (`processor <command>`, the image's ENTRYPOINT is `processor`):
- `consume`: reads every shard of STREAM_NAME into PostgreSQL, Redis and dead-letter files (ECS service).
- `serve`: the query API on PORT (ECS service behind the NLB).
- `db-setup`: creates the application's database role and applies the schema (ECS init container of the consume
  task, container dependency condition SUCCESS); needs DB_ADMIN_SECRET and DB_APP_SECRET.
- `healthcheck`: the container health check (exit 0 healthy, 1 unhealthy).

Database credentials, exactly one of two modes for `consume` and `serve`:
- DB_SECRET_ARN: the application user's Secrets Manager secret (RDS JSON shape, alternating-users rotation). The
  task role needs secretsmanager:GetSecretValue on it (and kms:Decrypt on its key). Re-read on every
  authentication failure, so a rotation never needs a restart.
- DB_USER + DB_PASSWORD: static credentials, for local runs only.
"""

from __future__ import annotations

from typing import Final

# -- commands --------------------------------------------------------------------------------------------------
CONSUME: Final = "consume"
SERVE: Final = "serve"
DB_SETUP: Final = "db-setup"
HEALTHCHECK: Final = "healthcheck"
COMMANDS: Final = (CONSUME, SERVE, DB_SETUP, HEALTHCHECK)

# -- defaults the image sets ----------------------------------------------------------------------------------
DEFAULT_PORT: Final = 8080
DEFAULT_DATA_DIR: Final = "/mnt/iot"

# -- AWS -----------------------------------------------------------------------------------------------------
AWS_REGION: Final = "AWS_REGION"  # region of the stream and of the secret
AWS_ENDPOINT_URL: Final = "AWS_ENDPOINT_URL"  # read by boto3 itself; set only for an emulator
STREAM_NAME: Final = "STREAM_NAME"  # the Kinesis stream: consume reads it; both name their metrics by it

# Names of variables, not secrets (S105 is a false positive on this whole module).
# ruff: noqa: S105

# -- PostgreSQL ----------------------------------------------------------------------------------------------
DB_HOST: Final = "DB_HOST"
DB_PORT: Final = "DB_PORT"  # default 5432
DB_NAME: Final = "DB_NAME"
DB_SSLMODE: Final = "DB_SSLMODE"  # default "require"; the image sets verify-full
DB_SSLROOTCERT: Final = "DB_SSLROOTCERT"  # CA bundle for verify-ca/verify-full; the image sets the RDS bundle
DB_SECRET_ARN: Final = "DB_SECRET_ARN"  # consume/serve: the application secret (rotating)
DB_USER: Final = "DB_USER"  # consume/serve, local runs only (with DB_PASSWORD, instead of DB_SECRET_ARN)
DB_PASSWORD: Final = "DB_PASSWORD"
DB_ADMIN_SECRET: Final = "DB_ADMIN_SECRET"  # db-setup: the master secret's whole JSON (an ECS secret)
DB_APP_SECRET: Final = "DB_APP_SECRET"  # db-setup: the application secret's whole JSON (an ECS secret)

# -- Redis ---------------------------------------------------------------------------------------------------
REDIS_HOST: Final = "REDIS_HOST"
REDIS_PORT: Final = "REDIS_PORT"  # default 6379
REDIS_TLS: Final = "REDIS_TLS"  # default true
REDIS_AUTH_TOKEN: Final = "REDIS_AUTH_TOKEN"  # an ECS secret

# -- files and ports -----------------------------------------------------------------------------------------
DATA_DIR: Final = "DATA_DIR"  # consume: dead letters go under <DATA_DIR>/dead-letter/ (the EFS mount)
PORT: Final = "PORT"  # serve: HTTP port, default 8080
HEARTBEAT_FILE: Final = "HEARTBEAT_FILE"  # consume: touched every loop turn; default /tmp/processor-consume.heartbeat
LOG_LEVEL: Final = "LOG_LEVEL"  # default INFO

# -- tuning (optional; defaults suit production) ---------------------------------------------------------------
BATCH_SIZE: Final = "BATCH_SIZE"  # records per GetRecords at the shard's tip, default 1000
CATCHUP_BATCH_SIZE: Final = "CATCHUP_BATCH_SIZE"  # records per GetRecords while behind, default 10000
IDLE_SLEEP_SECONDS: Final = "IDLE_SLEEP_SECONDS"  # wait before re-reading a shard that returned nothing, default 1
REBALANCE_SECONDS: Final = "REBALANCE_SECONDS"  # shard-ownership check interval, default 15
MAX_BACKOFF_SECONDS: Final = "MAX_BACKOFF_SECONDS"  # cap of the retry backoff, default 20
METRICS_SECONDS: Final = "METRICS_SECONDS"  # interval of the per-shard lag and lease metrics, default 60
MAX_FUTURE_SECONDS: Final = "MAX_FUTURE_SECONDS"  # readings dated later than arrival + this are invalid, default 900
DB_POOL_TIMEOUT_SECONDS: Final = "DB_POOL_TIMEOUT_SECONDS"  # serve: wait for a pooled connection, default 5

# Every variable above, for the CDK side's checks and the local emulator.
ENVIRONMENT: Final = (
    AWS_REGION,
    AWS_ENDPOINT_URL,
    STREAM_NAME,
    DB_HOST,
    DB_PORT,
    DB_NAME,
    DB_SSLMODE,
    DB_SSLROOTCERT,
    DB_SECRET_ARN,
    DB_USER,
    DB_PASSWORD,
    DB_ADMIN_SECRET,
    DB_APP_SECRET,
    REDIS_HOST,
    REDIS_PORT,
    REDIS_TLS,
    REDIS_AUTH_TOKEN,
    DATA_DIR,
    PORT,
    HEARTBEAT_FILE,
    LOG_LEVEL,
    BATCH_SIZE,
    CATCHUP_BATCH_SIZE,
    IDLE_SLEEP_SECONDS,
    REBALANCE_SECONDS,
    MAX_BACKOFF_SECONDS,
    METRICS_SECONDS,
    MAX_FUTURE_SECONDS,
    DB_POOL_TIMEOUT_SECONDS,
)

# -- metrics (CloudWatch embedded metric format on stdout) -------------------------------------------------------
METRICS_NAMESPACE: Final = "IotPlatform/Processor"
