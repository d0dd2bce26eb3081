"""Where the checkout's root is (examples and scripts beside the packages), independent of the
working directory. The contract folders are the kit's: ``connectors.paths``."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
