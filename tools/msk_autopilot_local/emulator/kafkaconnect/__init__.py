"""MSK Connect (``kafkaconnect``) in moto, which has no such service: CreateConnector,
ListConnectors, DescribeConnector, DeleteConnector and ListTagsForResource (``models``), checked
and answered through botocore's model of the service (``responses``).

moto finds a service's backend by importing ``moto.<service>`` and the service of a request by
``moto.backend_index.backend_url_patterns``; ``install_kafka_connect`` registers this package
under that module name and its URL pattern in that list, which both the in-process stubber and
the server's dispatcher read on every request. Without it, the server answered ListConnectors
with an HTML 500 page.
"""

import re
import sys

from moto import backend_index

from .models import Connector, KafkaConnectBackend, kafkaconnect_backends

__all__ = ["Connector", "KafkaConnectBackend", "install_kafka_connect", "kafkaconnect_backends"]

SERVICE = "kafkaconnect"
URL_PATTERN = re.compile(r"https?://kafkaconnect\.(.+)\.amazonaws\.com")


def install_kafka_connect() -> None:
    """Serve ``kafkaconnect`` from this package, in this process, from now on. Idempotent."""
    sys.modules.setdefault(f"moto.{SERVICE}", sys.modules[__name__])
    if all(service != SERVICE for service, _ in backend_index.backend_url_patterns):
        backend_index.backend_url_patterns.append((SERVICE, URL_PATTERN))
