"""Item pipelines: each Document the spiders yield is handed on as an event."""

from __future__ import annotations

from scrapy import Spider
from scrapy.exceptions import DropItem

from crawlers.events import ItemEvent
from mediawatch.model import Document


class EmitDocumentPipeline:
    """Hands every Document to the parent process; drops items with nothing to read."""

    def process_item(self, item: Document, spider: Spider) -> Document:
        if not (item.title.strip() or item.text.strip()):
            raise DropItem(f"empty item from {item.source_id}: {item.url}")
        spider.events.write(ItemEvent(document=item))
        return item
