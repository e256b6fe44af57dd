"""`python -m preflight --env staging` end to end on stubbed AWS answers, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preflight.__main__ import main
from tests.preflight.conftest import (
    FakeSts,
    StubbedSession,
    cache_engine_version,
    db_instance,
    engine_version,
    install_fake_sts,
    quota,
    reserved_offering,
    stub_instance,
    stub_orderable,
    stub_postgres_offered,
    stub_template,
)

STACK_FILTER = {"Name": "tag:aws:cloudformation:stack-name", "Values": ["Staging-Platform"]}


def _vpc(vpc_id: str, cidr: str, default: bool = False) -> dict[str, Any]:
    return {
        "VpcId": vpc_id,
        "CidrBlock": cidr,
        "State": "available",
        "DhcpOptionsId": "dopt-0a1b2c3d4e5f60718",
        "InstanceTenancy": "default",
        "IsDefault": default,
        "OwnerId": "333333333333",
        "CidrBlockAssociationSet": [
            {
                "AssociationId": f"vpc-cidr-assoc-{vpc_id[4:]}",
                "CidrBlock": cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
    }


def _stub_all(session: StubbedSession, postgres: str = "15.17", running: str | None = None) -> None:
    """A staging account that can take the deployment, except where ``postgres`` (cdk.json's version) is not offered;
    ``running``: the database exists at that version (the deployed template says 15.17)."""
    rds = session.stub("rds")
    if running is not None:
        stub_instance(rds, db_instance(running))
        stub_template(session.stub("cloudformation"), "15.17")
        stub_orderable(rds, running)
    elif postgres == "15.17":
        stub_postgres_offered(rds)
    else:
        stub_instance(rds, None)
        rds.add_response(
            "describe_db_engine_versions", {"DBEngineVersions": []}, {"Engine": "postgres", "EngineVersion": postgres}
        )
        rds.add_response(
            "describe_db_engine_versions",
            {"DBEngineVersions": [engine_version(v) for v in ("15.12", "15.13", "15.14", "15.15", "15.17")]},
            {"Engine": "postgres", "DBParameterGroupFamily": "postgres15"},
        )
    cache = session.stub("elasticache")
    cache.add_response(
        "describe_cache_engine_versions",
        {"CacheEngineVersions": [cache_engine_version(v) for v in ("6.2", "7.0", "7.1")]},
        {"Engine": "redis"},
    )
    cache.add_response(
        "describe_reserved_cache_nodes_offerings",
        {"ReservedCacheNodesOfferings": [reserved_offering("cache.t4g.small")]},
        {"CacheNodeType": "cache.t4g.small", "ProductDescription": "redis", "MaxRecords": 20},
    )
    ec2 = session.stub("ec2")
    ec2.add_response("describe_vpcs", {"Vpcs": []}, {"Filters": [STACK_FILTER]})
    ec2.add_response("describe_vpcs", {"Vpcs": [_vpc("vpc-0f1e2d3c4b5a69788", "172.31.0.0/16", True)]}, {})
    quotas = session.stub("service-quotas")
    quotas.add_response(
        "get_service_quota",
        quota("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
        {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
    )
    ec2.add_response(
        "describe_nat_gateways",
        {"NatGateways": []},
        {"Filters": [STACK_FILTER, {"Name": "state", "Values": ["pending", "available"]}]},
    )
    ec2.add_response("describe_addresses", {"Addresses": []}, {"Filters": [{"Name": "domain", "Values": ["vpc"]}]})
    quotas.add_response(
        "get_service_quota",
        quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0),
        {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"},
    )


def test_staging_passes(session: StubbedSession, capsys: pytest.CaptureFixture[str]) -> None:
    _stub_all(session)
    assert main(["--env", "staging"], session=session) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":", 1)[0] for line in out[:-1]] == [
        "PASS postgres-version",
        "PASS postgres-instance-class",
        "PASS redis-version",
        "PASS cache-node-type",
        "PASS vpc-quota",
        "PASS elastic-ip-quota",
    ]
    assert out[-1] == "preflight staging: 6 passed, 0 failed, 0 skipped"


def test_unoffered_postgres_fails_the_run(
    session: StubbedSession, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """cdk.json asks for 15.3: the run exits 1 and says which setting to change to what."""
    cdk_json = json.loads(Path("cdk.json").read_text())
    cdk_json["context"]["platform"]["environments"]["staging"]["database"]["engine_version"] = "15.3"
    config = tmp_path / "cdk.json"
    config.write_text(json.dumps(cdk_json))
    _stub_all(session, postgres="15.3")
    assert main(["--env", "staging", "--config", str(config)], session=session) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL postgres-version: environments.staging.database.engine_version is 15.3, which RDS does not offer for new "
        "PostgreSQL instances in us-east-1; set it to an offered version: the newest is 15.17" in out
    )
    assert "SKIP postgres-instance-class" in out
    assert out.splitlines()[-1] == "preflight staging: 4 passed, 1 failed, 1 skipped"


def test_day_2_rds_upgraded_the_instance_and_withdrew_15_17_the_run_passes(
    session: StubbedSession, capsys: pytest.CaptureFixture[str]
) -> None:
    """cdk.json still says 15.17, RDS moved the instance to 15.18 and no longer offers 15.17 for new instances: the
    run passes, and never asks whether 15.17 is offered (no such answer is stubbed)."""
    _stub_all(session, running="15.18")
    assert main(["--env", "staging"], session=session) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "PASS postgres-version: iot-staging-postgres runs PostgreSQL 15.18, which RDS upgraded from the configured "
        "15.17; the deployed template already says so, and CloudFormation does not re-apply an unchanged version."
    )
    assert out[1] == "PASS postgres-instance-class: db.t4g.small is orderable for PostgreSQL 15.18."
    assert out[-1] == "preflight staging: 6 passed, 0 failed, 0 skipped"


def test_a_refused_assume_role_stops_before_any_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_fake_sts(monkeypatch, FakeSts(refuse=True))
    role = "arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-us-east-1"
    assert main(["--env", "staging", "--role-arn", role]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Could not ask account 333333333333 in us-east-1: An error occurred (AccessDenied)")
    assert captured.err.endswith("; run with its credentials.\n")


def test_invalid_config_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "qa"], session=object()) == 2
    assert capsys.readouterr().err.strip() == "Invalid config: environments.qa is not a configured environment."
    broken = tmp_path / "cdk.json"
    broken.write_text("{not json")
    assert main(["--env", "dev", "--config", str(broken)], session=object()) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Invalid config: ") and err.count("\n") == 0
