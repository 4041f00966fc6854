"""The web UI's templates and static assets, served by ``api``; the digest email templates."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
