"""The resource types a rule may name: CloudFormation's (cfn-lint's provider schemas, which also
list the SAM types) and the types SAM generates, so a misspelt type is an error with a
suggestion instead of a rule that silently selects nothing."""

from __future__ import annotations

import functools

SAM_TYPES = (
    "AWS::Serverless::Api",
    "AWS::Serverless::Application",
    "AWS::Serverless::Connector",
    "AWS::Serverless::Function",
    "AWS::Serverless::GraphQLApi",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::SimpleTable",
    "AWS::Serverless::StateMachine",
)


@functools.lru_cache(maxsize=1)
def known_types() -> tuple[str, ...]:
    try:
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

        found = set(PROVIDER_SCHEMA_MANAGER.get_resource_types("us-east-1"))
    except Exception:  # cfn-lint's schemas unavailable: only the shape is checked (below)
        found = set()
    return tuple(sorted(found | set(SAM_TYPES)))
