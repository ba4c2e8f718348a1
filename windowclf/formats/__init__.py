"""Files in and out: CoNLL columns, JSON lines, word-vector files, and the writers of tagged text."""
