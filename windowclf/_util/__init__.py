"""Small private helpers shared by every stage: atomic writes, memory limits, output guards,
terminal-safe text, BLAS threads, file hashes (of the bytes read), the checks of public arguments,
freed memory given back."""
