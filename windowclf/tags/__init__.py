"""Tags and entities: conlleval's chunk rules, the tag schemes as data, conlleval's scores."""
