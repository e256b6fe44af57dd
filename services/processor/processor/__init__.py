"""IoT sensor processor: `consume` (Kinesis -> PostgreSQL + Redis + dead letters), `serve` (query API) and
`db-setup` (database role and schema); the container contract is `processor.contract`."""
