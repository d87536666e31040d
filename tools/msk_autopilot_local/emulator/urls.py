"""URL routes of the MSK emulator, found by moto through ``MskBackend`` (``models`` -> ``urls``).

Every MSK path lives under /v1/, /api/v2/ or /replication/v1/. Which operation a request is gets
decided later from botocore's model, on the raw (still percent-encoded) path, so the routes only
need to send those prefixes to ``MskResponse``: in-process through moto's botocore stubber, in
server mode through the Flask app moto builds from the same table.
"""

from moto.kafka.urls import url_bases

from .responses import MskResponse

__all__ = ["url_bases", "url_paths"]

url_paths = {
    "{0}/v1/(?P<path>.+)$": MskResponse.dispatch,
    "{0}/api/v2/(?P<path>.+)$": MskResponse.dispatch,
    "{0}/replication/v1/(?P<path>.+)$": MskResponse.dispatch,
}
