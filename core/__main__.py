import sys

from .cli import main

if __name__ == "__main__":  # worker processes (the reader isolation, Dask's LocalCluster) import this module too
    sys.exit(main())
