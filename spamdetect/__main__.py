import sys

from spamdetect.cli import main

sys.exit(main())
