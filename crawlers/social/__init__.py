"""Social media behind one connector interface: YouTube, Facebook pages, Telegram channels."""

from crawlers.social.collect import collect, connector_for
from crawlers.social.connector import Connector
from crawlers.social.http import SocialError

__all__ = ["Connector", "SocialError", "collect", "connector_for"]
