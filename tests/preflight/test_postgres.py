"""The PostgreSQL pre-flight on realistic RDS and CloudFormation answers, for a new instance and a running one.

Every expected call is stubbed with its exact parameters, so a test also proves which version a check asks about
(e.g. the instance class is looked up for the RUNNING version) and, by the absence of a stub, which calls it no
longer makes (a running instance's check never asks whether its version is offered for new instances).
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY

from platform_config import EnvironmentSettings
from preflight import postgres
from preflight.results import FAIL, PASS, SKIP, CheckResult
from tests.preflight.conftest import (
    StubbedSession,
    db_instance,
    engine_version,
    orderable,
    platform_template,
    stub_instance,
    stub_orderable,
    stub_postgres_offered,
    stub_template,
    with_database,
)

OFFERED_15 = ["15.7", "15.8", "15.10", "15.12", "15.13", "15.14", "15.15", "15.17"]
STACK = "Staging-Platform"


def run(session: StubbedSession, env: EnvironmentSettings) -> list[CheckResult]:
    return postgres.check_postgres(session.client("rds"), session.client("cloudformation"), env, STACK)


def running(session: StubbedSession, version: str, deployed: str | None) -> None:
    """The instance runs ``version``; the deployed template says ``deployed`` (None: no stack)."""
    stub_instance(session.stub("rds"), db_instance(version))
    stub_template(session.stub("cloudformation"), deployed)


def upgrade_targets(session: StubbedSession, version: str, targets: list[str]) -> None:
    session.stub("rds").add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(version, targets=targets)]},
        {"Engine": "postgres", "EngineVersion": version},
    )


# A new instance: the configured version must be offered for new instances.


def test_postgres_15_3_is_not_offered(session: StubbedSession, staging: EnvironmentSettings) -> None:
    """The failure this check exists for: "Cannot find version 15.3 for postgres", caught before deploying."""
    env = with_database(staging, engine_version="15.3")
    rds = session.stub("rds")
    stub_instance(rds, None)
    rds.add_response(
        "describe_db_engine_versions", {"DBEngineVersions": []}, {"Engine": "postgres", "EngineVersion": "15.3"}
    )
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(v) for v in OFFERED_15]},
        {"Engine": "postgres", "DBParameterGroupFamily": "postgres15"},
    )
    version, instance_class = run(session, env)
    assert version.status == FAIL
    assert version.message == (
        "environments.staging.database.engine_version is 15.3, which RDS does not offer for new PostgreSQL instances "
        "in us-east-1; set it to an offered version: the newest is 15.17 (offered: 15.17, 15.15, 15.14, 15.13, "
        "15.12, 15.10, 15.8, 15.7)."
    )
    assert (instance_class.status, instance_class.message) == (
        SKIP,
        "Skipped until database.engine_version is offered.",
    )


def test_deprecated_version_listed_with_include_all_still_fails(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    rds = session.stub("rds")
    stub_instance(rds, None)
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version("15.10", status="deprecated")]},
        {"Engine": "postgres", "EngineVersion": "15.10"},
    )
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version("15.17")]},
        {"Engine": ANY, "DBParameterGroupFamily": ANY},
    )
    version, _ = run(session, with_database(staging, engine_version="15.10"))
    assert version.status == FAIL and "newest is 15.17" in version.message


def test_configured_minor_and_class_pass_for_a_new_instance(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    stub_postgres_offered(session.stub("rds"), "15.17", "db.t4g.small", storage=("gp2", "gp3", "io1"))
    assert [(r.name, r.status, r.message) for r in run(session, staging)] == [
        ("postgres-version", PASS, "PostgreSQL 15.17 is offered for new instances."),
        ("postgres-instance-class", PASS, "db.t4g.small is orderable for PostgreSQL 15.17."),
    ]


def test_major_only_asks_rds_for_its_default_minor(session: StubbedSession, staging: EnvironmentSettings) -> None:
    """ "15" (the default for new environments): RDS creates its default 15 minor; the class is checked for that."""
    rds = session.stub("rds")
    stub_instance(rds, None)
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version("15.12")]},
        {"Engine": "postgres", "EngineVersion": "15", "DefaultOnly": True},
    )
    stub_orderable(rds, "15.12")
    version, instance_class = run(session, with_database(staging, engine_version="15"))
    assert (version.status, version.message) == (
        PASS,
        "PostgreSQL 15 is offered for new instances: RDS would create 15.12, its default minor.",
    )
    assert (instance_class.status, instance_class.message) == (PASS, "db.t4g.small is orderable for PostgreSQL 15.12.")


def test_major_only_without_a_default_fails(session: StubbedSession, staging: EnvironmentSettings) -> None:
    rds = session.stub("rds")
    stub_instance(rds, None)
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": []},
        {"Engine": "postgres", "EngineVersion": "15", "DefaultOnly": True},
    )
    version, instance_class = run(session, with_database(staging, engine_version="15"))
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 15, but RDS offers no PostgreSQL 15 version for new "
        "instances in us-east-1; set it to a PostgreSQL major version that RDS offers.",
    )
    assert instance_class.status == SKIP


# The instance exists: RDS moves its minor version, pre-flight follows the running version.


def test_rds_upgraded_15_17_to_15_18_preflight_still_passes(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    """Auto minor upgrade moved the instance on; cdk.json and the deployed template still say 15.17."""
    running(session, "15.18", deployed="15.17")
    stub_orderable(session.stub("rds"), "15.18")
    version, instance_class = run(session, staging)
    assert (version.status, version.message) == (
        PASS,
        "iot-staging-postgres runs PostgreSQL 15.18, which RDS upgraded from the configured 15.17; the deployed "
        "template already says so, and CloudFormation does not re-apply an unchanged version.",
    )
    assert (instance_class.status, instance_class.message) == (PASS, "db.t4g.small is orderable for PostgreSQL 15.18.")


def test_15_17_no_longer_offered_for_new_instances_but_the_instance_exists_passes(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    """RDS withdrew 15.17 for new instances: the running one is unaffected, and pre-flight does not even ask."""
    running(session, "15.17", deployed="15.17")
    stub_orderable(session.stub("rds"), "15.17")
    version, instance_class = run(session, staging)
    assert (version.status, version.message) == (PASS, "iot-staging-postgres runs PostgreSQL 15.17, as configured.")
    assert instance_class.status == PASS


def test_catching_the_config_up_with_the_running_version_passes(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    running(session, "15.18", deployed="15.17")
    stub_orderable(session.stub("rds"), "15.18")
    version, _ = run(session, with_database(staging, engine_version="15.18"))
    assert (version.status, version.message) == (PASS, "iot-staging-postgres runs PostgreSQL 15.18, as configured.")


def test_a_changed_minor_lower_than_the_running_one_is_a_downgrade(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    running(session, "15.18", deployed="15.17")
    stub_orderable(session.stub("rds"), "15.18")
    version, instance_class = run(session, with_database(staging, engine_version="15.15"))
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 15.15, which differs from the deployed template's 15.17 "
        "and is lower than the PostgreSQL 15.18 that iot-staging-postgres runs, so the deployment would ask RDS to "
        "downgrade it; set it back to 15.17 or to 15.18 or newer.",
    )
    assert instance_class.status == PASS  # the class is still checked, for the running version


def test_changing_15_17_to_the_major_only_15_is_a_downgrade(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    """ "15" asks RDS for its default minor, which is no newer than what an auto-upgraded instance runs."""
    running(session, "15.17", deployed="15.17")
    stub_orderable(session.stub("rds"), "15.17")
    version, _ = run(session, with_database(staging, engine_version="15"))
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 15, which differs from the deployed template's 15.17 and "
        "asks RDS to move iot-staging-postgres from PostgreSQL 15.17 to its default 15 minor, a downgrade; set it "
        "to 15.17 or newer.",
    )


def test_major_only_already_deployed_passes_whatever_minor_runs(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    running(session, "15.20", deployed="15")
    stub_orderable(session.stub("rds"), "15.20")
    version, _ = run(session, with_database(staging, engine_version="15"))
    assert (version.status, version.message) == (
        PASS,
        "iot-staging-postgres runs PostgreSQL 15.20, within the configured major version 15.",
    )


def test_without_the_stack_a_lower_minor_is_still_a_downgrade(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    """The instance outlived its stack (retained): nothing was deployed, so any lower version is a change."""
    running(session, "15.17", deployed=None)
    stub_orderable(session.stub("rds"), "15.17")
    version, _ = run(session, with_database(staging, engine_version="15.15"))
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 15.15, which differs from the deployed template and is "
        "lower than the PostgreSQL 15.17 that iot-staging-postgres runs, so the deployment would ask RDS to "
        "downgrade it; set it to 15.17 or newer.",
    )


def test_a_minor_upgrade_rds_lists_passes(session: StubbedSession, staging: EnvironmentSettings) -> None:
    running(session, "15.17", deployed="15.17")
    upgrade_targets(session, "15.17", ["15.18", "15.19", "16.9"])
    stub_orderable(session.stub("rds"), "15.17")
    version, instance_class = run(session, with_database(staging, engine_version="15.19"))
    assert (version.status, version.message) == (
        PASS,
        "PostgreSQL 15.19 is a valid upgrade of the 15.17 that iot-staging-postgres runs.",
    )
    assert instance_class.message == "db.t4g.small is orderable for PostgreSQL 15.17."


def test_an_upgrade_rds_does_not_list_fails(session: StubbedSession, staging: EnvironmentSettings) -> None:
    running(session, "15.17", deployed="15.17")
    upgrade_targets(session, "15.17", ["15.18", "15.19", "16.9"])
    stub_orderable(session.stub("rds"), "15.17")
    version, _ = run(session, with_database(staging, engine_version="15.21"))
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 15.21, which RDS does not offer as an upgrade of the "
        "PostgreSQL 15.17 that iot-staging-postgres runs in us-east-1; set it to the running 15.17 or a valid "
        "upgrade target: 15.18, 15.19.",
    )


def test_a_deployment_never_changes_the_major_version(session: StubbedSession, staging: EnvironmentSettings) -> None:
    """Once config accepts PostgreSQL 16, setting it on an environment that runs 15 must not reach CloudFormation."""
    running(session, "15.17", deployed="15.17")
    stub_orderable(session.stub("rds"), "15.17")
    version, instance_class = run(session, with_database(staging, engine_version="16.4"))
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 16.4, but iot-staging-postgres runs PostgreSQL 15.17 and a "
        "deployment never changes the major version; keep it on PostgreSQL 15 (the deployed template says 15.17) and "
        "upgrade the major version as a planned operation outside the pipeline.",
    )
    assert instance_class.message == "db.t4g.small is orderable for PostgreSQL 15.17."


def test_the_instance_class_must_be_orderable_for_the_running_version(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    running(session, "15.18", deployed="15.17")
    rds = session.stub("rds")
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": []},
        {"Engine": "postgres", "EngineVersion": "15.18", "DBInstanceClass": "db.t4g.small"},
    )
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable(c, "15.18") for c in ("db.t4g.medium", "db.m7g.large")]},
        {"Engine": "postgres", "EngineVersion": "15.18"},
    )
    _, instance_class = run(session, staging)
    assert (instance_class.status, instance_class.message) == (
        FAIL,
        "environments.staging.database.instance_type is t4g.small, which is not orderable for PostgreSQL 15.18 in "
        "us-east-1; choose an orderable class such as t4g.medium.",
    )


def test_a_refused_instance_lookup_fails_the_version_and_skips_the_class(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    session.stub("rds").add_client_error(
        "describe_db_instances",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:sts::333333333333:assumed-role/x/y is not authorized to perform: "
        "rds:DescribeDBInstances",
        http_status_code=403,
    )
    version, instance_class = run(session, staging)
    assert version.status == FAIL
    assert version.message.startswith("DescribeDBInstances was refused (AccessDenied: User: arn:aws:sts::")
    assert instance_class.status == SKIP


def test_a_refused_template_read_fails_the_version_and_still_checks_the_class(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    stub_instance(session.stub("rds"), db_instance("15.18"))
    session.stub("cloudformation").add_client_error(
        "get_template",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:sts::333333333333:assumed-role/x/y is not authorized to perform: "
        "cloudformation:GetTemplate",
        http_status_code=403,
    )
    stub_orderable(session.stub("rds"), "15.18")
    version, instance_class = run(session, staging)
    assert version.status == FAIL
    assert version.message.startswith("GetTemplate was refused (AccessDenied: User: arn:aws:sts::")
    assert (instance_class.status, instance_class.message) == (PASS, "db.t4g.small is orderable for PostgreSQL 15.18.")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n", id="yaml-not-from-the-cdk"),
        pytest.param(json.dumps(platform_template("15.17", identifier="iot-staging-postgres-v1")), id="other-instance"),
    ],
)
def test_a_template_that_does_not_deploy_the_instance_says_nothing(
    session: StubbedSession, staging: EnvironmentSettings, body: str
) -> None:
    """Only the CDK's (JSON) template's DBInstance of that identifier counts; else every lower version is a change."""
    stub_instance(session.stub("rds"), db_instance("15.18"))
    session.stub("cloudformation").add_response(
        "get_template", {"TemplateBody": body, "StagesAvailable": ["Original"]}, {"StackName": STACK}
    )
    stub_orderable(session.stub("rds"), "15.18")
    version, _ = run(session, staging)
    assert (version.status, version.message) == (
        FAIL,
        "environments.staging.database.engine_version is 15.17, which differs from the deployed template and is "
        "lower than the PostgreSQL 15.18 that iot-staging-postgres runs, so the deployment would ask RDS to "
        "downgrade it; set it to 15.18 or newer.",
    )


def test_a_refused_version_lookup_for_a_new_instance_skips_the_class(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    rds = session.stub("rds")
    stub_instance(rds, None)
    rds.add_client_error(
        "describe_db_engine_versions",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:sts::333333333333:assumed-role/x/y is not authorized to perform: "
        "rds:DescribeDBEngineVersions",
        http_status_code=403,
    )
    version, instance_class = run(session, staging)
    assert version.status == FAIL
    assert version.message.startswith("DescribeDBEngineVersions was refused (AccessDenied: User: arn:aws:sts::")
    assert version.message.endswith("(the CDK bootstrap lookup role has it).")
    assert instance_class.status == SKIP


# The instance class, whatever the version it is checked for.


def test_instance_class_not_orderable_suggests_the_family(
    session: StubbedSession, staging: EnvironmentSettings
) -> None:
    env = with_database(staging, instance_type="t2.small")
    rds = session.stub("rds")
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": []},
        {"Engine": "postgres", "EngineVersion": "15.17", "DBInstanceClass": "db.t2.small"},
    )
    page_one = [orderable(c, "15.17") for c in ("db.m6g.large", "db.t3.micro", "db.t3.small")]
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": page_one, "Marker": "page-2"},
        {"Engine": "postgres", "EngineVersion": "15.17"},
    )
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable("db.t4g.micro", "15.17")]},
        {"Engine": "postgres", "EngineVersion": "15.17", "Marker": "page-2"},
    )
    result = postgres.check_instance_class(session.client("rds"), env, "15.17")
    assert result.status == FAIL
    assert result.message == (
        "environments.staging.database.instance_type is t2.small, which is not orderable for PostgreSQL 15.17 in "
        "us-east-1; choose an orderable class such as m6g.large, t3.micro, t3.small, t4g.micro."
    )


def test_multi_az_needs_a_multi_az_capable_class(session: StubbedSession, staging: EnvironmentSettings) -> None:
    session.stub("rds").add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable("db.t4g.small", "15.17", multi_az=False)]},
        {"Engine": "postgres", "EngineVersion": "15.17", "DBInstanceClass": "db.t4g.small"},
    )
    result = postgres.check_instance_class(session.client("rds"), staging, "15.17")
    assert result.status == FAIL
    assert result.message == (
        "environments.staging.database.instance_type t4g.small cannot run Multi-AZ for PostgreSQL 15.17 in us-east-1; "
        "choose another class or set database.multi_az to false."
    )


def test_gp3_storage_is_required(session: StubbedSession, staging: EnvironmentSettings) -> None:
    stub_orderable(session.stub("rds"), "15.17", storage=("gp2", "io1"))
    result = postgres.check_instance_class(session.client("rds"), staging, "15.17")
    assert result.status == FAIL
    assert result.message == (
        "environments.staging.database.instance_type t4g.small does not offer gp3 storage for PostgreSQL 15.17 in "
        "us-east-1; choose a current-generation class."
    )
