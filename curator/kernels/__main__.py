"""``python -m curator.kernels`` runs the quality check."""

import sys

from .check import main

sys.exit(main())
