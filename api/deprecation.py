"""Old parameter names kept for one release: responses using them carry Deprecation, Link and Warning headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from fastapi import Request, Response

from pactkb.index.filters import deprecated_filters, deprecation_note

DEPRECATED_SINCE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # the release that unified the filter names


def announce(request: Request, response: Response, old_to_new: dict[str, str]) -> None:
    """Tell the caller (RFC 9745 Deprecation, a Link to the docs, a 299 Warning per name) which names to replace."""
    if not old_to_new:
        return
    response.headers["Deprecation"] = f"@{int(DEPRECATED_SINCE.timestamp())}"
    response.headers["Link"] = f'<{request.url_for("swagger_ui")}>; rel="deprecation"; type="text/html"'
    response.headers["Warning"] = ", ".join(
        '299 pactkb "{}"'.format(deprecation_note(old, new).replace('"', "'")) for old, new in old_to_new.items()
    )


def announce_filters(request: Request, response: Response, names: Iterable[str]) -> None:
    """Announce the old filter names among these parameter names."""
    announce(request, response, deprecated_filters(names))
