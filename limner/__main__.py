import sys

from limner.cli import main

sys.exit(main())
