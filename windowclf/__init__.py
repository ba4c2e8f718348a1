"""windowclf: window-based word classifiers with hand-derived gradients.

The public API is what ``__all__`` lists; everything else is importable but not promised.
"""

__version__ = "0.1.0"

from .conll import Sentence, parse_incr, read_conll, write_conll
from .errors import ConfigError, DivergenceError, InputError, ModelFileError, WindowclfError
from .finetune import export_vectors, finetune_report, nearest_neighbours, tuned_vectors, vector_changes
from .gradcheck import check_gradients
from .metrics import conlleval_report, count_chunks, token_f1
from .network import WindowNetwork
from .schemes import convert, get_entities
from .settings import Settings
from .tagger import WindowTagger
from .tokenize import Token, iter_sentences, split_sentences
from .vectors import WordVectors, load_cs224d, load_vectors, save_word2vec_format
from .vocab import Vocabulary

__all__ = [
    "WindowTagger",
    "Settings",
    "WindowNetwork",
    "Vocabulary",
    "WordVectors",
    "load_vectors",
    "load_cs224d",
    "save_word2vec_format",
    "tuned_vectors",
    "vector_changes",
    "nearest_neighbours",
    "finetune_report",
    "export_vectors",
    "Sentence",
    "read_conll",
    "parse_incr",
    "write_conll",
    "get_entities",
    "convert",
    "count_chunks",
    "conlleval_report",
    "token_f1",
    "Token",
    "split_sentences",
    "iter_sentences",
    "check_gradients",
    "WindowclfError",
    "InputError",
    "ModelFileError",
    "ConfigError",
    "DivergenceError",
]
