"""Run the processor locally against emulated Kinesis (moto) and real PostgreSQL and Redis (`make run-local`).

Starts the three servers on loopback, creates the stream, starts `processor consume` and `processor serve` with
the container contract's environment, prints how to send readings and query them, and stops everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

import boto3

from localaws.processes import ProcessorProcess
from localaws.servers import (
    MotoServer,
    PostgresServer,
    RedisServer,
    aws_environment,
    processor_environment,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stream", default="sensor-readings")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="port of `serve`")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="iot-local-"))
    postgres, redis_server, moto = PostgresServer(), RedisServer(), MotoServer()
    started: list = []
    processes: list[ProcessorProcess] = []
    try:
        for server in (postgres, redis_server, moto):
            server.start()
            started.append(server)
        postgres.create_database("iot")
        aws = aws_environment(moto.endpoint)
        boto3.client(
            "kinesis",
            region_name=aws["AWS_REGION"],
            endpoint_url=moto.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_stream(StreamName=args.stream, ShardCount=args.shards)
        env = {
            **processor_environment(
                aws, postgres, redis_server, database="iot", stream=args.stream, data_dir=work / "efs",
                heartbeat=work / "heartbeat",
            ),
            "PORT": str(args.port),
        }  # fmt: skip
        (work / "efs").mkdir()
        processes.append(ProcessorProcess("consume", env, work / "consume.log"))
        processes.append(ProcessorProcess("serve", env, work / "serve.log"))
        wait_for_port(args.port, process=processes[1].process)
        print(
            f"""
processor running: consume + serve (logs in {work})
  Kinesis (moto) {moto.endpoint}   PostgreSQL 127.0.0.1:{postgres.port}/iot   Redis 127.0.0.1:{redis_server.port}

send a reading:
  AWS_ENDPOINT_URL={moto.endpoint} AWS_DEFAULT_REGION={aws["AWS_REGION"]} AWS_ACCESS_KEY_ID=testing \\
  AWS_SECRET_ACCESS_KEY=testing .venv/bin/python -c "import boto3, json; boto3.client('kinesis').put_record(\\
StreamName='{args.stream}', PartitionKey='sensor-001', Data=json.dumps({{'sensorId': 'sensor-001', \\
'timestamp': '2025-12-04T00:00:00Z', 'temperature': 25.5, 'humidity': 60.0}}))"
query it:
  curl http://127.0.0.1:{args.port}/sensors/sensor-001/latest
  curl 'http://127.0.0.1:{args.port}/sensors/sensor-001/readings?limit=10'
  open http://127.0.0.1:{args.port}/docs for the OpenAPI schema
dead letters: {work / "efs" / "dead-letter"}

Ctrl-C stops everything.""",
            flush=True,
        )
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
    finally:
        for proc in processes:
            proc.terminate()
        for server in reversed(started):
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
