"""A started delivery as an HTTP response: the data streamed as it is read, and what was actually
sent recorded when the response closes.  The API and the requester's page both answer with it."""

from __future__ import annotations

from flask import Response, stream_with_context

from . import delivery


def streamed(started: delivery.Started, *, sessions) -> Response:
    """The response for a delivery ``delivery.start`` opened (and whose record was committed)."""
    record_id, stream, grant_id = started.record.id, started.stream, started.grant.id
    response = Response(stream_with_context(stream.chunks), mimetype=stream.media_type)
    response.headers["Content-Disposition"] = f"attachment; filename=grant-{grant_id}.{stream.extension}"
    response.call_on_close(lambda: (stream.close(), delivery.finish(sessions, delivery_id=record_id, stats=stream.stats)))
    return response
