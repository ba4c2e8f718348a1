"""What a window holds: vocabularies, per-token and document features, the gazetteer, spellings, window ids."""
