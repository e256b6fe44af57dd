"""The local AWS the project tests and rehearses against, with no account: moto in server mode taught the types and
behaviours it lacks (localaws.models: CloudFormation resources, stack updates, drift detection, expiring credentials,
the region's offerings; localaws.kinesis_patches), real PostgreSQL and Redis servers on loopback (localaws.servers),
the API Gateway data plane (localaws.api_gateway), and the rehearsal that deploys a synthesized stage, runs the
integration suite against it and plays day 2 and the review gates on it (localaws.rehearsal). See localaws/README.md."""
