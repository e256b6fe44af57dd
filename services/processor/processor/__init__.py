"""IoT sensor processor: `consume` (Kinesis -> PostgreSQL + Redis + dead letters) and `serve` (query API)."""
