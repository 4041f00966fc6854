"""Telegram public channels through their web preview, ``t.me/s/<channel>``: no account,
no API key. A page shows the latest messages oldest first; ``?before=<id>`` goes back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlsplit

from parsel import Selector

from crawlers.social.connector import post_document, recent
from crawlers.social.http import ApiClient, SocialError
from mediawatch.model import Document, Source

# Web preview pages hold about twenty messages; this bounds a crawl of a silent channel.
MAX_PAGES = 50


class TelegramConnector:
    def __init__(self, client: ApiClient, max_items: int) -> None:
        self._client = client
        self._max_items = max_items
        self.skipped = 0

    def fetch(self, source: Source, since: datetime | None) -> Iterator[Document]:
        return recent(self._posts(source, since), since, self._max_items)

    def _posts(self, source: Source, since: datetime | None) -> Iterator[Document]:
        page_url = urlsplit(str(source.url))._replace(query="", fragment="").geturl()
        before: int | None = None
        for _ in range(MAX_PAGES):
            selector = self._page(page_url, before)
            messages = selector.css("div.tgme_widget_message[data-post]")
            ids: list[int] = []
            documents: list[Document] = []
            for message in messages:
                post = message.attrib["data-post"]
                number = post.rpartition("/")[2]
                if not number.isdigit() or (before is not None and int(number) >= before):
                    continue  # a page that repeats what we read already gives nothing twice
                ids.append(int(number))
                document = self._document(source, post, message)
                if document is None:
                    self.skipped += 1
                else:
                    documents.append(document)
            yield from reversed(documents)  # newest first, as the other connectors
            oldest = min(ids, default=None)
            if oldest is None or oldest <= 1:
                return
            before = oldest

    def _page(self, url: str, before: int | None) -> Selector:
        response = self._client.get(url, {"before": before} if before else None)
        if response.status_code != 200:
            raise SocialError(f"http_{response.status_code}", "channel page not served", url)
        selector = Selector(text=response.text)
        if before is None and not selector.css(".tgme_channel_info, .tgme_widget_message"):
            # t.me answers a private or unknown channel with its generic landing page
            raise SocialError("not_found", "no public channel preview at this address", url)
        return selector

    @staticmethod
    def _document(source: Source, post: str, message: Selector) -> Document | None:
        """None for messages without text: photos, videos, stickers without a caption."""
        body = message.css(".tgme_widget_message_bubble > .tgme_widget_message_text")
        if not body:
            return None
        parts = body[0].xpath(".//text() | .//br")
        text = "".join("\n" if part.xpath("self::br") else part.get() for part in parts).strip()
        if not text:
            return None
        stamp = message.css(".tgme_widget_message_date time::attr(datetime)").get()
        try:
            published = datetime.fromisoformat(stamp) if stamp else None
        except ValueError:
            published = None
        if published is not None and published.tzinfo is None:
            published = None  # a time without a zone is not a time we can place
        author = message.css(".tgme_widget_message_owner_name span::text").get() or ""
        return post_document(
            source,
            f"https://t.me/{post}",
            "",
            text,
            published,
            [author.strip()],
            extractor="telegram-web",
            date_source="page",
        )
