"""Parse a batch push body (``multipart/form-data``) held in memory into named parts.

The photos never touch a temporary file here: the body is bounded by ``X-Registry-Max-Batch-Bytes``
and parsed from memory with python-multipart's streaming parser (binary parts stay bytes, whatever
their Content-Disposition says about file names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from sync.registry.errors import ApiError


@dataclass
class Part:
    name: str
    content_type: str
    data: bytearray = field(default_factory=bytearray)


def boundary_of(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "a batch is multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise ApiError(400, "MALFORMED_BATCH", "the multipart boundary is missing")
    return boundary


class _TooManyParts(Exception):
    pass


def parse(body: bytes, content_type: str | None, *, max_parts: int) -> list[Part]:
    """The parts in order; 400 MALFORMED_BATCH for a body that is not well-formed multipart or has
    more than ``max_parts`` parts (the parser stops at the first part too many)."""
    boundary = boundary_of(content_type)
    parts: list[Part] = []
    state: dict = {"field": b"", "value": b"", "headers": {}, "current": None, "begun": 0}

    def on_part_begin() -> None:
        state["begun"] += 1
        if state["begun"] > max_parts:
            raise _TooManyParts
        state["headers"] = {}
        state["current"] = None

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, params = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        content_type = state["headers"].get(b"content-type", b"application/octet-stream").decode("latin-1")
        state["current"] = Part(name=name, content_type=content_type)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["current"] is not None:
            state["current"].data += data[start:end]

    def on_part_end() -> None:
        if state["current"] is not None:
            parts.append(state["current"])
            state["current"] = None

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        parser.write(body)
        parser.finalize()
    except _TooManyParts:
        raise ApiError(400, "MALFORMED_BATCH", f"at most {max_parts} parts per batch") from None
    except (MultipartParseError, ValueError, IndexError) as error:
        raise ApiError(
            400, "MALFORMED_BATCH", f"the body is not well-formed multipart ({type(error).__name__})"
        ) from None
    return parts
