"""``python -m windowclf``: the ``windowclf`` command."""

from windowclf.cli.main import main

if __name__ == "__main__":
    main(prog_name="windowclf")
