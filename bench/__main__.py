"""``python -m bench``: see :mod:`bench.cli`."""

from bench.cli import main

# Guarded: the dataset is generated in a spawned child process, which imports this module
# again under another name.
if __name__ == "__main__":
    raise SystemExit(main())
