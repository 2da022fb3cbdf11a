"""Reading a download in tests, whether it was sent whole or streamed."""

from __future__ import annotations

from typing import Any


def body(response: Any) -> bytes:
    """The bytes of a response: a register export streams (issue 16, P7)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)
