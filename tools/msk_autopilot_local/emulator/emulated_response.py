"""What every emulated service's HTTP side (MSK, MSK Connect) does with a request: the operation
moto's router matched (botocore's model: method plus path), its request parsed and checked by
``params``, its handler called under the emulator's lock, the result serialized by moto from
botocore's model, and a service error answered as the service would."""

from collections.abc import Callable, Mapping
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult, BaseResponse

from .exceptions import MskError, NotFoundException, OperationNotEmulated
from .params import parse_request, service_model
from .state import emulator_state

Params = dict[str, Any]


class EmulatedResponse(BaseResponse):
    def answer_operation[Backend](
        self,
        service_title: str,
        handlers: Mapping[str, Callable[[Backend, Params], dict[str, Any]]],
        backend: Callable[[], Backend],
        extra_params: Params | None = None,
    ) -> TYPE_RESPONSE:
        """The answer of the handler named by the request's operation, called with `backend()`
        and the request's parameters (plus `extra_params`, which the request does not carry as
        members); `service_title` names the service when no operation matches."""
        operation_name = self._get_action()
        with emulator_state.lock:
            try:
                if not operation_name:
                    raise NotFoundException(
                        f"No {service_title} operation matches"
                        f" {self.method} {self.parsed_url.path}."
                    )
                handler = handlers.get(operation_name)
                if handler is None:
                    raise OperationNotEmulated(operation_name)
                body = self.raw_body if isinstance(self.raw_body, bytes) else self.raw_body.encode()
                params = parse_request(
                    service_model(self.service_name).operation_model(operation_name),
                    self.uri_match,
                    self.normalized_request.args.to_dict(flat=False),
                    body,
                )
                result = handler(backend(), {**params, **(extra_params or {})})
            except MskError as error:
                headers = {**self.response_headers, **dict(error.get_headers())}
                return error.code, headers, error.get_body()
        return self.serialized(ActionResult(result))
