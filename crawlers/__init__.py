"""Collection layer: Scrapy spiders that turn sources into Documents.

Public API: :func:`crawlers.process.crawl` runs a crawl in its own process and yields its events;
:func:`crawlers.extract.extract_article` pulls an article out of a page.
"""
