"""Storage: the :class:`index.store.Store` interface, its backends and the query model."""
