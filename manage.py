#!/usr/bin/env python
"""Django's manage.py; ``leadcycle`` (the console command) does the same."""

from leadcycle.cli import main

if __name__ == "__main__":
    main()
