"""Store.upsert against raw helpers.bulk of the same documents, same server, one run.

    python bench/elastic_upsert.py [--url http://127.0.0.1:9200] [--items 100000]

Documents are normalised and carry a classification (cheap, fixed) so that both sides index
exactly what production indexes; only the write path differs.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from elasticsearch import Elasticsearch, helpers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import synthetic_documents
from index.elastic import ITEM_MAPPINGS, ElasticStore
from mediawatch.config import ElasticsearchSettings
from mediawatch.model import Classification, Sentiment
from mediawatch.normalise import normalise_document


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()

    classification = Classification(
        sentiment=Sentiment.NEUTRAL,
        sentiment_scores={"neutral": 1.0},
        unreliable_probability=0.1,
        risk=0.1,
    )
    documents = [
        normalise_document(d).model_copy(update={"classification": classification})
        for d in synthetic_documents(args.items)
    ]
    prefix = f"mwbench-{uuid.uuid4().hex[:8]}"
    store = ElasticStore(ElasticsearchSettings(urls=[args.url], index_prefix=prefix))
    client = Elasticsearch(args.url, request_timeout=120)
    raw_index = f"{prefix}-raw"
    client.indices.create(
        index=raw_index, settings={"number_of_replicas": 0}, mappings=ITEM_MAPPINGS
    )
    try:
        started = time.perf_counter()
        for start in range(0, len(documents), 5000):
            store.upsert(documents[start : start + 5000])
        client.indices.refresh(index=store.read_alias)  # searchable at the end, as raw is
        ours = time.perf_counter() - started

        actions = (
            {
                "_index": raw_index,
                "_id": d.id,
                "_source": store._fields(d)
                | {
                    "fetched_at": d.fetched_at.isoformat(),
                    "review_state": "new",
                    "review_version": 0,
                },
            }
            for d in documents
        )
        started = time.perf_counter()
        helpers.bulk(client, actions, chunk_size=500)
        client.indices.refresh(index=raw_index)  # searchable at the end, as ours is
        raw = time.perf_counter() - started
    finally:
        store.delete_everything()
        client.indices.delete(index=raw_index)
    print(f"{args.items:,} items on {args.url}")
    print(f"  Store.upsert : {args.items / ours:8,.0f} items/s ({ours:.1f} s)")
    print(f"  helpers.bulk : {args.items / raw:8,.0f} items/s ({raw:.1f} s)")
    print(f"  ratio        : {raw / ours:.2f} of raw (target ≥ 0.80)")


if __name__ == "__main__":
    main()
