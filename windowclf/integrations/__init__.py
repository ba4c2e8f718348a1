"""windowclf inside other libraries' pipelines: a spaCy component (``windowclf_ner``, extra ``spacy``).

Each module imports its library when it is imported itself, never from here: ``import windowclf``
and the command line load none of them.
"""
