"""PostgreSQL pre-flight: can this deployment create or update the environment's RDS instance with its configuration?

RDS upgrades minor versions by itself (auto minor version upgrade) and withdraws old minors for new instances, so the
checks differ by whether the instance exists (`describe_db_instances` of `database_identifier(env)`):
- none yet: the configured version must be offered for new instances (the major alone "15": RDS's default 15 minor;
  a minor "15.17": exactly it), and the instance class orderable for that version;
- running: the configured major must be the running one (a deployment never changes it); a configured minor lower
  than the running one passes only while it is what the deployed template already says (CloudFormation does not
  re-apply an unchanged value), else the update would ask RDS to downgrade; a higher minor must be a valid upgrade
  target of the running version; and the instance class must be orderable for the running version.
The deployed template is read with CloudFormation `get_template`, which the CDK bootstrap lookup role may call.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from platform_config import EnvironmentSettings
from platform_config.naming import database_identifier
from preflight.results import FAIL, PASS, SKIP, CheckResult, guarded, listing, pages, refused, setting, version_key

VERSION_CHECK = "postgres-version"
CLASS_CHECK = "postgres-instance-class"
ENGINE = "postgres"


def _available(version: dict[str, Any]) -> bool:
    return version.get("Status", "available") == "available"


def major_of(version: str) -> str:
    """The major version of a PostgreSQL version: "15.17" -> "15", "15" -> "15"."""
    return version.split(".", 1)[0]


def offered_postgres_versions(rds: Any, major: str) -> list[str]:
    """PostgreSQL minor versions of ``major`` that RDS offers for new instances, oldest first."""
    versions = pages(
        rds,
        "describe_db_engine_versions",
        "DBEngineVersions",
        Engine=ENGINE,
        DBParameterGroupFamily=f"postgres{major}",
    )
    return sorted({v["EngineVersion"] for v in versions if _available(v)}, key=version_key)


def default_postgres_version(rds: Any, major: str) -> str | None:
    """The minor RDS creates when asked for the major alone (its default for ``major``), or None if it has none."""
    found = rds.describe_db_engine_versions(Engine=ENGINE, EngineVersion=major, DefaultOnly=True)["DBEngineVersions"]
    return next((v["EngineVersion"] for v in found if _available(v) and major_of(v["EngineVersion"]) == major), None)


def find_instance(rds: Any, env: EnvironmentSettings) -> dict[str, Any] | None:
    """The environment's RDS instance as `describe_db_instances` shows it, or None before it is first created."""
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=database_identifier(env.name))["DBInstances"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "DBInstanceNotFound":
            raise
        return None
    return found[0] if found else None


def deployed_engine_version(cloudformation: Any, stack_name: str, identifier: str) -> str | None:
    """The EngineVersion the deployed template gives the instance ``identifier``; None without stack or literal."""
    try:
        body = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    except ClientError as error:
        err = error.response["Error"]
        if err["Code"] == "ValidationError" and "does not exist" in err.get("Message", ""):
            return None
        raise
    if not isinstance(body, dict):
        return None  # botocore decodes a JSON template; a YAML one (a string) is not what the CDK deployed
    for resource in body.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::RDS::DBInstance" and properties.get("DBInstanceIdentifier") == identifier:
            version = properties.get("EngineVersion")
            return version if isinstance(version, str) else None
    return None


def check_new_instance_version(rds: Any, env: EnvironmentSettings) -> tuple[CheckResult, str | None]:
    """No instance yet: the configured version is offered for new ones; also returns the version RDS would create."""
    version = env.database.engine_version
    major = major_of(version)
    if version == major:
        default = default_postgres_version(rds, major)
        if default is not None:
            message = f"PostgreSQL {major} is offered for new instances: RDS would create {default}, its default minor."
            return CheckResult(VERSION_CHECK, PASS, message), default
        return CheckResult(
            VERSION_CHECK,
            FAIL,
            f"{setting(env, 'database.engine_version')} is {version}, but RDS offers no PostgreSQL {major} version for "
            f"new instances in {env.region}; set it to a PostgreSQL major version that RDS offers.",
        ), None
    found = rds.describe_db_engine_versions(Engine=ENGINE, EngineVersion=version)["DBEngineVersions"]
    if any(v["EngineVersion"] == version and _available(v) for v in found):
        return CheckResult(VERSION_CHECK, PASS, f"PostgreSQL {version} is offered for new instances."), version
    offered = offered_postgres_versions(rds, major)
    hint = f"the newest is {offered[-1]} (offered: {listing(reversed(offered))})" if offered else "none is offered"
    return CheckResult(
        VERSION_CHECK,
        FAIL,
        f"{setting(env, 'database.engine_version')} is {version}, which RDS does not offer for new PostgreSQL "
        f"instances in {env.region}; set it to an offered version: {hint}.",
    ), None


def _upgrade_targets(rds: Any, running: str) -> list[str]:
    """Minor versions RDS lists as valid upgrade targets of ``running`` (same major), oldest first."""
    found = rds.describe_db_engine_versions(Engine=ENGINE, EngineVersion=running)["DBEngineVersions"]
    targets = {
        t["EngineVersion"]
        for v in found
        if v["EngineVersion"] == running
        for t in v.get("ValidUpgradeTarget", [])
        if not t.get("IsMajorVersionUpgrade") and major_of(t["EngineVersion"]) == major_of(running)
    }
    return sorted(targets, key=version_key)


def check_running_version(
    rds: Any, cloudformation: Any, env: EnvironmentSettings, stack_name: str, instance: dict[str, Any]
) -> CheckResult:
    """The instance exists: the configured version neither changes its major nor asks RDS to downgrade it."""
    key = setting(env, "database.engine_version")
    configured, running = env.database.engine_version, instance["EngineVersion"]
    name, major = instance["DBInstanceIdentifier"], major_of(running)
    deployed = deployed_engine_version(cloudformation, stack_name, name)
    if major_of(configured) != major:
        says = f" (the deployed template says {deployed})" if deployed else ""
        return CheckResult(
            VERSION_CHECK,
            FAIL,
            f"{key} is {configured}, but {name} runs PostgreSQL {running} and a deployment never changes the major "
            f"version; keep it on PostgreSQL {major}{says} and upgrade the major version as a planned operation "
            "outside the pipeline.",
        )
    if configured == running:
        return CheckResult(VERSION_CHECK, PASS, f"{name} runs PostgreSQL {running}, as configured.")
    unchanged = configured == deployed
    differs = f"differs from the deployed template's {deployed}" if deployed else "differs from the deployed template"
    if deployed and version_key(deployed) < version_key(running):
        keep = f"set it back to {deployed} or to {running} or newer"
    else:
        keep = f"set it to {running} or newer"
    if configured == major:
        if unchanged:
            message = f"{name} runs PostgreSQL {running}, within the configured major version {configured}."
            return CheckResult(VERSION_CHECK, PASS, message)
        return CheckResult(
            VERSION_CHECK,
            FAIL,
            f"{key} is {configured}, which {differs} and asks RDS to move {name} from PostgreSQL {running} to its "
            f"default {major} minor, a downgrade; {keep}.",
        )
    if version_key(configured) < version_key(running):
        if unchanged:
            return CheckResult(
                VERSION_CHECK,
                PASS,
                f"{name} runs PostgreSQL {running}, which RDS upgraded from the configured {configured}; the deployed "
                "template already says so, and CloudFormation does not re-apply an unchanged version.",
            )
        return CheckResult(
            VERSION_CHECK,
            FAIL,
            f"{key} is {configured}, which {differs} and is lower than the PostgreSQL {running} that {name} runs, so "
            f"the deployment would ask RDS to downgrade it; {keep}.",
        )
    targets = _upgrade_targets(rds, running)
    if configured in targets:
        message = f"PostgreSQL {configured} is a valid upgrade of the {running} that {name} runs."
        return CheckResult(VERSION_CHECK, PASS, message)
    choices = f"the running {running} or a valid upgrade target: {listing(targets)}" if targets else running
    return CheckResult(
        VERSION_CHECK,
        FAIL,
        f"{key} is {configured}, which RDS does not offer as an upgrade of the PostgreSQL {running} that {name} runs "
        f"in {env.region}; set it to {choices}.",
    )


def check_instance_class(rds: Any, env: EnvironmentSettings, version: str | None) -> CheckResult:
    """The instance class is orderable for ``version`` (and Multi-AZ / gp3 where configured); SKIP without one."""
    db = env.database
    instance_class = f"db.{db.instance_type}"
    if version is None:
        return CheckResult(CLASS_CHECK, SKIP, "Skipped until database.engine_version is offered.")
    options = pages(
        rds,
        "describe_orderable_db_instance_options",
        "OrderableDBInstanceOptions",
        Engine=ENGINE,
        EngineVersion=version,
        DBInstanceClass=instance_class,
    )
    key = setting(env, "database.instance_type")
    if not options:
        classes = pages(
            rds,
            "describe_orderable_db_instance_options",
            "OrderableDBInstanceOptions",
            Engine=ENGINE,
            EngineVersion=version,
        )
        family = db.instance_type.split(".", 1)[0]
        orderable = sorted({o["DBInstanceClass"].removeprefix("db.") for o in classes})
        same_family = [c for c in orderable if c.startswith(f"{family}.")] or orderable
        return CheckResult(
            CLASS_CHECK,
            FAIL,
            f"{key} is {db.instance_type}, which is not orderable for PostgreSQL {version} in {env.region}; choose "
            f"an orderable class such as {listing(same_family)}.",
        )
    if db.multi_az and not any(o.get("MultiAZCapable") for o in options):
        return CheckResult(
            CLASS_CHECK,
            FAIL,
            f"{key} {db.instance_type} cannot run Multi-AZ for PostgreSQL {version} in {env.region}; choose another "
            "class or set database.multi_az to false.",
        )
    if not any(o.get("StorageType") == "gp3" for o in options):
        return CheckResult(
            CLASS_CHECK,
            FAIL,
            f"{key} {db.instance_type} does not offer gp3 storage for PostgreSQL {version} in {env.region}; choose a "
            "current-generation class.",
        )
    return CheckResult(CLASS_CHECK, PASS, f"{instance_class} is orderable for PostgreSQL {version}.")


def check_postgres(rds: Any, cloudformation: Any, env: EnvironmentSettings, stack_name: str) -> list[CheckResult]:
    """Both PostgreSQL checks: the version (for a new or the running instance), then the instance class for the
    version RDS would create, or for the running one."""
    try:
        instance = find_instance(rds, env)
    except ClientError as error:
        return [refused(VERSION_CHECK, error), check_instance_class(rds, env, None)]
    if instance is None:
        try:
            version, target = check_new_instance_version(rds, env)
        except ClientError as error:
            version, target = refused(VERSION_CHECK, error), None
    else:
        target = instance["EngineVersion"]
        version = guarded(VERSION_CHECK, lambda: check_running_version(rds, cloudformation, env, stack_name, instance))
    return [version, guarded(CLASS_CHECK, lambda: check_instance_class(rds, env, target))]
