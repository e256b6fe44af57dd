"""CloudFormation models registered with moto, so the rehearsal deploys the real stage template as AWS would.

moto 5.2.5's CloudFormation skips resource types it has no model for and ignores some properties of those it has;
the integration suite checks exactly those parts, so each gap is filled, one module per service, with a model that
creates the resource through moto's own service backend (so `describe_*` returns what the template asked for), never
a canned answer. Beyond creation: stack updates as CloudFormation performs them (`updates`), drift detection
(`drift`), expiring assumed-role credentials (`sts`) and CDK's custom resource providers (`custom_resources`).
localaws/README.md lists each with what it reproduces faithfully and what it does not. Every other type the template
uses and nothing inspects (WAF, VPC link, security-group egress) is left as moto leaves it: skipped with a warning.

`apply()` runs inside the moto server process (localaws.moto_server).
"""

from __future__ import annotations

import functools

from moto.cloudformation import parsing

from localaws.models import (
    apigateway,
    autoscaling,
    awslambda,
    cloudformation,
    cloudwatch,
    custom_resources,
    drift,
    ec2,
    ecs,
    efs,
    elasticache,
    elbv2,
    kinesis,
    kms,
    logs,
    offerings,
    rds,
    secretsmanager,
    sts,
    updates,
)

MODELS = (
    *elasticache.MODELS,
    *secretsmanager.MODELS,
    *ec2.MODELS,
    *autoscaling.MODELS,
    *apigateway.MODELS,
    *cloudwatch.MODELS,
    *custom_resources.MODELS,
)
PATCHES = (
    awslambda,
    secretsmanager,
    ec2,
    kinesis,
    kms,
    rds,
    efs,
    elbv2,
    ecs,
    logs,
    cloudwatch,
    custom_resources,
    cloudformation,
    updates,
    drift,
    offerings,
    sts,
)


def apply() -> None:
    """Register the models with moto's CloudFormation and apply the property fixes."""
    for module in PATCHES:
        module.patch()
    # moto maps types to models from CloudFormationModel's direct subclasses, once; ours come after (and win).
    moto_models = parsing.get_model_list()
    parsing.get_model_list = functools.lru_cache(lambda: [*moto_models, *MODELS])
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    registered = parsing.get_model_map()
    missing = [model.TYPE for model in MODELS if registered.get(model.TYPE) is not model]
    if missing:
        raise RuntimeError(f"moto did not register the models for {missing}")
