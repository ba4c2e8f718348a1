"""The HTTP service of ``windowclf serve`` (``pip install 'windowclf[serve]'``): a Starlette app under
uvicorn that answers with the entity record, scoring concurrent requests together in micro-batches.

``batcher`` gathers the requests' work and calls the model once per batch, off the event loop;
``app`` is the ASGI application (routes, limits, JSON errors); ``server`` runs it under uvicorn
on a socket it binds, and stops on SIGTERM after the requests in flight are answered.
"""
