"""Many files and many machines: segments, the engine-independent shard task, jobs into a folder, Dask."""
