"""Lambda: a function whose code is an S3 object that does not exist is refused, as AWS refuses it
("Error occurred while GetObject. S3 Error Code: NoSuchKey"); moto's S3 answers a missing key with nothing instead of
its MissingKey error, so its check never fires and the function is created with no code. This is what makes an
unpublished file asset (cdk-assets never ran) fail the stack, as in AWS."""

from __future__ import annotations

from typing import Any

from moto.awslambda import models as lambda_models

_original_validate = lambda_models._validate_s3_bucket_and_key


def _validate_s3_bucket_and_key(account_id: str, partition: str, data: dict[str, Any]) -> Any:
    key = _original_validate(account_id, partition=partition, data=data)
    if key is None and lambda_models.do_validate_s3():
        raise ValueError(
            "InvalidParameterValueException",
            "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not "
            f"exist. (s3://{data.get('S3Bucket')}/{data.get('S3Key')})",
        )
    return key


def patch() -> None:
    lambda_models._validate_s3_bucket_and_key = _validate_s3_bucket_and_key
