"""``python -m replayvault``."""

from .cli import main

main()
