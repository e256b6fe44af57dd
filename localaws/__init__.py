"""The local AWS the project tests and rehearses against, with no account: moto in server mode taught the
CloudFormation types and behaviours it lacks (localaws.models, localaws.kinesis_patches), real PostgreSQL and Redis
servers on loopback (localaws.servers), the API Gateway data plane (localaws.api_gateway), and the rehearsal that
deploys a synthesized stage and runs the integration suite against it (localaws.rehearsal). See localaws/README.md."""
