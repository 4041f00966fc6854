"""The offline demo: a small made-up press corpus served on loopback, crawled like the real web."""
