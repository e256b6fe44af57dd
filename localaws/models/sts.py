"""STS: credentials expire. moto issues AssumeRole credentials with the requested `DurationSeconds` and an `Expiration`,
then accepts them forever; AWS refuses a request signed with expired session credentials (`ExpiredToken` in the query
protocols, `ExpiredTokenException` in the JSON ones), which is what a long pipeline step meets after one hour of a
chained role. Here every request through moto's action dispatch (every service but S3, whose requests moto dispatches
on its own path) signed with an assumed role's access key is refused once that role session's expiration has passed.

Deliberate deviation, for time compression: moto honours any `DurationSeconds` (AWS's minimum is 900), so a rehearsal
can ask for credentials that expire within a scenario. Not reproduced: the signature itself (moto checks none), and
expiry of the static keys the rehearsal starts with (they never expire, as an IAM user's keys).
"""

from __future__ import annotations

from typing import Any

from moto.core import responses as core_responses
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model, utcnow
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

_JSON_PROTOCOLS = ("json", "rest-json", "smithy-rpc-v2-cbor")


class ExpiredToken(ServiceException):
    code = "ExpiredToken"
    message = "The security token included in the request is expired"


class ExpiredTokenException(ExpiredToken):
    code = "ExpiredTokenException"


def expired(account_id: str, access_key: str, region: str) -> bool:
    """Whether ``access_key`` belongs to an assumed-role session of ``account_id`` that has expired."""
    session = sts_backends[account_id][get_partition(region)].get_assumed_role_from_access_key(access_key)
    return session is not None and session.expiration < utcnow()


_original_call_action = core_responses.BaseResponse.call_action


def _call_action(self: core_responses.BaseResponse) -> Any:
    """Refuse expired session credentials before the action runs, in the service's own error format."""
    if expired(self.current_account, self.access_key, self.region):
        protocol = get_service_model(self.boto3_service_name).protocol
        error = ExpiredTokenException() if protocol in _JSON_PROTOCOLS else ExpiredToken()
        return self.serialized(ActionResult(error))
    return _original_call_action(self)


def patch() -> None:
    core_responses.BaseResponse.call_action = _call_action  # type: ignore[method-assign]
