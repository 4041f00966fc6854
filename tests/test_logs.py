"""Logging set up once keeps working when the stream it first saw has gone away."""

from __future__ import annotations

import io
import sys

import structlog

from mediawatch.logs import configure_logging


def test_log_lines_follow_stderr_after_the_stream_seen_at_setup_is_closed(capsys):
    temporary = io.StringIO()
    real, sys.stderr = sys.stderr, temporary  # as a command runner swaps it for a while
    try:
        configure_logging()
    finally:
        sys.stderr = real
    temporary.close()

    structlog.get_logger("mediawatch.test").info("vẫn ghi log", source="thu-nghiem")

    assert "vẫn ghi log" in capsys.readouterr().err
