"""Pages of a list answer, with opaque next tokens, as MSK and MSK Connect paginate."""

import base64

from .exceptions import BadRequestException

# Both services answer 100 items when a request names no MaxResults (its model's maximum).
DEFAULT_PAGE_SIZE = 100


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_page_token(token: str) -> int:
    try:
        label, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        label, offset = "", ""
    if label != "offset" or not offset.isdigit():
        raise BadRequestException("The nextToken is not valid.", "nextToken")
    return int(offset)


def page_window(max_results: int | None, next_token: str | None) -> tuple[int, int]:
    """Where the requested page starts and ends in the whole listing."""
    start = _decode_page_token(next_token) if next_token is not None else 0
    return start, start + (max_results or DEFAULT_PAGE_SIZE)


def token_for(offset: int) -> str:
    """The next token of a page that ends at `offset`."""
    return _encode_page_token(offset)


def page[Item](
    items: list[Item], max_results: int | None, next_token: str | None
) -> tuple[list[Item], str | None]:
    """One page of ``items`` and the token of the next page (None on the last)."""
    start, end = page_window(max_results, next_token)
    return items[start:end], _encode_page_token(end) if end < len(items) else None
