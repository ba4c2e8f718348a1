"""Raw text to sentences of tokens with character offsets, and the library's checks of token lists."""
