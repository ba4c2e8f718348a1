"""The ``windowclf`` command: one module per command group, adapting the library."""
