"""The MSK error shapes, as botocore's model and the service define them.

MSK answers errors with the HTTP status of the error shape, an ``x-amzn-ErrorType`` header
naming it and a JSON body ``{"invalidParameter": ..., "message": ...}``; botocore maps the header
to ``client.exceptions.<Name>``.
"""

import json
from typing import Any

from moto.kafka.exceptions import KafkaException


class MskError(KafkaException):
    """An MSK service error: status, error type, message and the parameter at fault."""

    code = 400
    error_type = "BadRequestException"

    def __init__(self, message: str, invalid_parameter: str | None = None) -> None:
        super().__init__(self.error_type, message)
        self.invalid_parameter = invalid_parameter
        body: dict[str, str] = {"message": message}
        if invalid_parameter is not None:
            body["invalidParameter"] = invalid_parameter
        self.description = json.dumps(body)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("x-amzn-ErrorType", self.error_type), ("Content-Type", "application/json")]


class BadRequestException(MskError):
    code = 400
    error_type = "BadRequestException"


class NotFoundException(MskError):
    code = 404
    error_type = "NotFoundException"


class ConflictException(MskError):
    code = 409
    error_type = "ConflictException"


class TopicExistsException(MskError):
    code = 409
    error_type = "TopicExistsException"


class OperationNotEmulated(MskError):
    """A real MSK operation this emulator does not implement (topics, replicators, ...)."""

    code = 501
    error_type = "NotImplementedException"

    def __init__(self, operation_name: str) -> None:
        super().__init__(f"The MSK emulator does not implement {operation_name}.")
