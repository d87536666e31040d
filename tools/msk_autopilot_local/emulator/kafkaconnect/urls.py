"""URL routes of the MSK Connect emulator, found by moto through ``KafkaConnectBackend``
(``models`` -> ``urls``). Every MSK Connect path is under /v1/; which operation a request is
gets decided from botocore's model (``KafkaConnectResponse``)."""

from .responses import KafkaConnectResponse

url_bases = [r"https?://kafkaconnect\.(.+)\.amazonaws\.com"]

url_paths = {"{0}/v1/(?P<path>.+)$": KafkaConnectResponse.dispatch}
